#!/bin/sh
# `make run`: both systems on this machine, each with its own database, files and demo data.
#
#   sh scripts/run.sh .venv/bin
#
# AIPS at AIPS_BIND (default 127.0.0.1:8000) in the foreground, the ETP at AIPS_ETP_BIND (default
# 127.0.0.1:8001) in the background; Ctrl-C stops both. Each is migrated, gets its static files
# and, once, its demo data, whose sign-ins are printed (AIPS's first, then the ETP's).
set -eu
BIN="${1:?usage: run.sh VENV_BIN_DIR}"

"$BIN/aips" migrate --no-input
"$BIN/aips" collectstatic --no-input -v 0
"$BIN/aips" demo load
echo
"$BIN/etp" migrate --no-input -v 0
"$BIN/etp" collectstatic --no-input -v 0
"$BIN/etp" demo load

local_url() { echo "http://$1/" | sed 's#//127\.0\.0\.1:#//localhost:#'; }
echo
echo "== AIPS: $(local_url "${AIPS_BIND:-127.0.0.1:8000}")   (the sign-ins of the first list)"
echo "== ETP:  $(local_url "${AIPS_ETP_BIND:-127.0.0.1:8001}")   (the sign-ins of the second list; its catalogue is public)"
echo

# On PostgreSQL the auctions' live events come from `etp live` (uvicorn, AIPS_ETP_LIVE_BIND,
# default 127.0.0.1:8002); on SQLite it is not started and the live page polls.
LIVE_PID=""
case "${AIPS_ETP_DATABASE_URL:-}" in
postgres*)
  AIPS_ETP_LIVE_URL="${AIPS_ETP_LIVE_URL:-$(local_url "${AIPS_ETP_LIVE_BIND:-127.0.0.1:8002}" | sed 's#/$##')}"
  export AIPS_ETP_LIVE_URL
  "$BIN/etp" live &
  LIVE_PID=$!
  ;;
esac
"$BIN/etp" serve &
ETP_PID=$!
# The ETP's servers go when AIPS's does, however that ends (Ctrl-C, an error, a kill).
trap 'kill "$ETP_PID" $LIVE_PID 2>/dev/null || true; wait "$ETP_PID" $LIVE_PID 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
"$BIN/aips" serve
