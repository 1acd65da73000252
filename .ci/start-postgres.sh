#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the storage tests (idempotent).
#
#   .ci/start-postgres.sh [ENV_FILE]
#
# Runs as root on a Debian/Ubuntu machine. Installs PostgreSQL with apt-get when it is missing,
# creates a private cluster (it does not touch the distribution's own "main" cluster) under
# $CLIRLENS_PG_DATA (default /var/tmp/clirlens-pg), starts it on 127.0.0.1 at port 5432 or, when
# that port is taken by something else, the next free one, and creates the role and database
# clirlens / clirlens_test. Running it again reuses the cluster if it is already running.
#
# Prints   export CLIRLENS_TEST_PG_URL=postgresql+psycopg://...   on stdout, or writes that line
# to ENV_FILE when one is given (so CI can `source` it). Everything else goes to stderr.
set -euo pipefail

ENV_FILE="${1:-}"
BASE="${CLIRLENS_PG_DATA:-/var/tmp/clirlens-pg}"
DATA="$BASE/data"
SOCK="$BASE/run"
LOG="$BASE/server.log"
ROLE=clirlens
PASSWORD=clirlens
DB=clirlens_test
WANT_PORT="${CLIRLENS_PG_PORT:-5432}"

log() { echo "start-postgres: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    log "must run as root (it installs packages and switches to the postgres user)"
    exit 1
fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/pg_ctl" ]; then
    log "installing postgresql with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
fi
BIN="$(pg_bin)"
id postgres >/dev/null 2>&1 || useradd --system --home-dir "$BASE" --shell /bin/sh postgres

as_pg() { runuser -u postgres -- "$@"; }

mkdir -p "$BASE" "$SOCK"
chown postgres: "$BASE" "$SOCK"
chmod 700 "$BASE"

if [ ! -s "$DATA/PG_VERSION" ]; then
    log "initialising a cluster in $DATA"
    rm -rf "$DATA"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --no-locale >/dev/null
fi

port_in_use() {
    # true when something listens on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    PORT="$(sed -n 4p "$DATA/postmaster.pid")"
    log "cluster already running on port $PORT"
else
    PORT="$WANT_PORT"
    while port_in_use "$PORT"; do
        log "port $PORT is taken, trying $((PORT + 1))"
        PORT=$((PORT + 1))
    done
    log "starting the cluster on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$SOCK" \
        start >&2
fi

psql_admin() { as_pg "$BIN/psql" -h "$SOCK" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
    log "creating role $ROLE"
    psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    log "creating database $DB"
    psql_admin -c "CREATE DATABASE $DB OWNER $ROLE ENCODING 'UTF8' TEMPLATE template0"
fi

URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
# check that the role can log in over TCP with its password, as the tests will
PGPASSWORD="$PASSWORD" as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -qtA \
    -c "SELECT 1" >/dev/null

LINE="export CLIRLENS_TEST_PG_URL=$URL"
if [ -n "$ENV_FILE" ]; then
    echo "$LINE" >"$ENV_FILE"
    log "wrote $ENV_FILE"
else
    echo "$LINE"
fi
