#!/bin/sh
# `make bench`: the project's benchmarks, on SQLite and (when reachable) PostgreSQL.
set -eu
BIN="$1"
DATA=$(mktemp -d /tmp/aips-bench-XXXXXX)
trap 'rm -rf "$DATA"' EXIT
# The audit journal, on SQLite and on a PostgreSQL database the script creates and drops.
"$BIN/python" scripts/bench_audit.py > "$DATA/audit.out" || { cat "$DATA/audit.out"; exit 1; }
cat "$DATA/audit.out"
AIPS_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite-alerts" AIPS_BENCH_LABEL=sqlite "$BIN/python" scripts/bench_alerts.py
AIPS_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite-home" AIPS_BENCH_LABEL=sqlite "$BIN/python" scripts/bench_home.py
AIPS_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite-search" AIPS_BENCH_LABEL=sqlite "$BIN/python" scripts/bench_search.py
AIPS_DATABASE_URL= AIPS_ETP_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite-catalogue" "$BIN/python" scripts/bench_catalogue.py
# The integration module: parse → map → spool → ship to a local HTTPS stub (issue 9).
"$BIN/python" agent/bench/bench_agent.py --events 200000
mkdir -p "$DATA/sqlite-signals"
AIPS_DATABASE_URL= AIPS_DATA_DIR="$DATA/sqlite-signals" "$BIN/python" scripts/bench_signals.py > "$DATA/sqlite-signals.out"
cat "$DATA/sqlite-signals.out"
if "$BIN/python" -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then
  DB="aips_bench_$$"
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('CREATE DATABASE $DB')"
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)'); c.execute('CREATE DATABASE $DB')"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg-alerts" AIPS_BENCH_LABEL=postgresql \
    "$BIN/python" scripts/bench_alerts.py || status=$?
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)'); c.execute('CREATE DATABASE $DB')"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg-home" AIPS_BENCH_LABEL=postgresql \
    "$BIN/python" scripts/bench_home.py || status=$?
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)'); c.execute('CREATE DATABASE $DB')"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg-search" AIPS_BENCH_LABEL=postgresql \
    "$BIN/python" scripts/bench_search.py || status=$?
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)'); c.execute('CREATE DATABASE $DB')"
  mkdir -p "$DATA/pg-signals"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg-signals" \
    "$BIN/python" scripts/bench_signals.py > "$DATA/pg-signals.out" || status=$?
  cat "$DATA/pg-signals.out"
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)')"
  mkdir -p "$DATA/pg-queries"
  # Explorer queries over a large signal table: 1M rows by default (about 4 min to load);
  # AIPS_BENCH_QUERY_ROWS=10000000 gives the 10M (the load then takes most of an hour).
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('CREATE DATABASE $DB')"
  AIPS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AIPS_DATA_DIR="$DATA/pg-queries" \
    "$BIN/python" scripts/bench_signal_queries.py --rows "${AIPS_BENCH_QUERY_ROWS:-1000000}" || true
  "$BIN/python" -c "import psycopg; c=psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS $DB WITH (FORCE)')"
  # The ETP's live auction over HTTP (issue 18), in a database it creates and drops itself.
  "$BIN/python" scripts/bench_auction.py > "$DATA/auction.out" || status=$?
  cat "$DATA/auction.out"
  # The summary lines the issues ask for, last: ingest per backend, then the audit journal.
  grep '^ingest_' "$DATA/pg-signals.out" || true
  grep '^ingest_' "$DATA/sqlite-signals.out" || true
  grep '^audit_' "$DATA/audit.out" || true
  grep '^etp_auction ' "$DATA/auction.out" || true
  exit "${status:-0}"
else
  echo "bench: SKIPPED PostgreSQL (nothing answers on 127.0.0.1:5432)"
  grep '^audit_' "$DATA/audit.out" || true
fi
