#!/bin/sh
# `make bench`: the project's benchmarks, on SQLite and (when reachable) PostgreSQL.
set -eu
BIN="$1"
DATA=$(mktemp -d /tmp/aips-bench-XXXXXX)
trap 'rm -rf "$DATA"' EXIT
AIPS_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite" AIPS_BENCH_LABEL=sqlite "$BIN/python" scripts/bench_audit.py
AIPS_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite-alerts" AIPS_BENCH_LABEL=sqlite "$BIN/python" scripts/bench_alerts.py
if "$BIN/python" -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then
  DB="aips_bench_$$"
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('CREATE DATABASE $DB')"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg" AIPS_BENCH_LABEL=postgresql \
    "$BIN/python" scripts/bench_audit.py || status=$?
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)'); c.execute('CREATE DATABASE $DB')"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg-alerts" AIPS_BENCH_LABEL=postgresql \
    "$BIN/python" scripts/bench_alerts.py || status=$?
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)')"
  exit "${status:-0}"
else
  echo "bench: SKIPPED PostgreSQL (nothing answers on 127.0.0.1:5432)"
fi
