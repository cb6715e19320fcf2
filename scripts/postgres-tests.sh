#!/bin/sh
# Runs the whole non-browser suite against PostgreSQL when one is reachable; says so loudly when not.
BIN="$1"
URL="${AIPS_TEST_POSTGRES_URL:-}"
if [ -z "$URL" ]; then
  if "$BIN/python" -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then
    URL="postgres://postgres@127.0.0.1:5432/aips"
  fi
fi
if [ -z "$URL" ]; then
  echo "== SKIPPED: tests on PostgreSQL (no AIPS_TEST_POSTGRES_URL and nothing answers on 127.0.0.1:5432)"
  exit 0
fi
echo "== tests on PostgreSQL ($(echo "$URL" | sed 's#//[^@]*@#//***@#'))"
AIPS_DATABASE_URL="$URL" exec "$BIN/pytest" -q -m "not browser" -p no:cacheprovider
