#!/bin/sh
# Runs the whole non-browser suite against PostgreSQL when one is reachable; says so loudly when not.
# Two sessions: AIPS's, then the ETP's (its own settings, database and roles).
#
#   sh scripts/postgres-tests.sh .venv/bin
#
# The server comes from AIPS_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/aips when
# something answers there. Nothing is created by hand: the test run (src/aips/conftest.py,
# core/tests/pg_roles.py) creates, as the URL's user (a superuser), the roles of
# docs/deployment.md for its database -- <name>_owner and <name>_app -- and the database owned by
# the first, migrates as the owner, applies `aips db grants --app-role <name>_app`, and runs every
# test connected as the app role; at the end it drops the database and both roles. <name> is the
# settings' TEST NAME, AIPS_TEST_DATABASE_NAME: test_aips_<pid> here unless set (a run that is
# killed leaves them behind; `dropdb test_aips_<pid>` and `dropuser` of the two roles clear
# them, or the next run with the same name replaces them). The database named in the URL need
# not exist. An explicit AIPS_TEST_POSTGRES_URL that does not answer is a failure, not a skip.
set -eu
BIN="${1:?usage: postgres-tests.sh VENV_BIN_DIR}"
URL="${AIPS_TEST_POSTGRES_URL:-}"
if [ -z "$URL" ]; then
  if "$BIN/python" -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then
    URL="postgres://postgres@127.0.0.1:5432/aips"
  fi
fi
if [ -z "$URL" ]; then
  echo "=================================================================================="
  echo "== SKIPPED: tests on PostgreSQL -- no AIPS_TEST_POSTGRES_URL, and nothing answers"
  echo "== on 127.0.0.1:5432. Only SQLite was tested; set AIPS_TEST_POSTGRES_URL to run them."
  echo "=================================================================================="
  exit 0
fi
# One test database per run, so two checkouts testing on one server never trip over each other.
export AIPS_TEST_DATABASE_NAME="${AIPS_TEST_DATABASE_NAME:-test_aips_$$}"
echo "== tests on PostgreSQL ($(echo "$URL" | sed 's#//[^@]*@#//***@#'); test database $AIPS_TEST_DATABASE_NAME, run as the documented owner/app roles)"
AIPS_DATABASE_URL="$URL" "$BIN/pytest" -q -m "not browser" -p no:cacheprovider --create-db --durations=10
# The ETP's session (aips/settings_etp.py): its database is <name>_etp, with its own two roles.
echo "== ETP tests on PostgreSQL (test database ${AIPS_TEST_DATABASE_NAME}_etp)"
AIPS_ETP_DATABASE_URL="$URL" "$BIN/pytest" -q -m "not browser" -p no:cacheprovider --create-db --durations=5 \
  --ds=aips.settings_etp src/aips/etp
# The live auction page over server-sent events needs PostgreSQL's LISTEN/NOTIFY, so its browser
# test runs here rather than in the browser session (SQLite, where the page polls).
echo "== ETP live auction events in Chromium on PostgreSQL"
AIPS_ETP_DATABASE_URL="$URL" exec "$BIN/pytest" -q -m browser -p no:cacheprovider --create-db \
  --ds=aips.settings_etp src/aips/etp/auctions/tests/test_browser_live_events.py
