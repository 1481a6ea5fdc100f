#!/bin/sh
# PostgreSQL 15 configured like the official image: POSTGRES_USER (default postgres) owns
# POSTGRES_DB (default: the user's name); POSTGRES_HOST_AUTH_METHOD is the pg_hba method for
# TCP clients (trust, scram-sha-256 with POSTGRES_PASSWORD_FILE, or gss). With gss the service
# key comes from POSTGRES_KRB_KEYTAB and principals map to roles without their realm. Data lives
# in /var/lib/postgresql/data (a volume): a second start keeps it.
set -eu
user=${POSTGRES_USER:-postgres}
dbname=${POSTGRES_DB:-$user}
method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
data=/var/lib/postgresql/data
export PGDATA=$data

mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
chmod 0700 "$data"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

if [ ! -s "$data/PG_VERSION" ]; then
    echo "postgres: initialising $data (role $user, database $dbname, host auth $method)"
    as_postgres initdb -D "$data" -U postgres --auth-local=trust --auth-host=reject -E UTF8 >/dev/null
    {
        echo "local all all trust"
        echo "host all all all $method$( [ "$method" = gss ] && echo ' include_realm=0')"
    } > "$data/pg_hba.conf"
    as_postgres pg_ctl -D "$data" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$user" != postgres ]; then
        as_postgres psql -q -U postgres -d postgres -c "CREATE ROLE \"$user\" LOGIN" >/dev/null
    fi
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        # the password goes through stdin: never in argv or the environment
        pw=$(cat "$POSTGRES_PASSWORD_FILE")
        printf "ALTER ROLE \"%s\" PASSWORD '%s'\n" "$user" "$(printf %s "$pw" | sed "s/'/''/g")" \
            | as_postgres psql -q -U postgres -d postgres >/dev/null
    fi
    if [ "$dbname" != postgres ]; then
        as_postgres psql -q -U postgres -d postgres -c "CREATE DATABASE \"$dbname\" OWNER \"$user\"" >/dev/null
    fi
    as_postgres pg_ctl -D "$data" -m fast -w stop >/dev/null
fi

set -- -c listen_addresses='*' -c log_connections=on
if [ -n "${POSTGRES_KRB_KEYTAB:-}" ]; then
    set -- "$@" -c krb_server_keyfile="$POSTGRES_KRB_KEYTAB"
fi
echo "postgres: ready to start"
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$data" "$@"
