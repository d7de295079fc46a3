#!/bin/sh
# First start (empty data directory): initdb, then the roles and databases of deploy/README.md:
#   ejabberd            owns database ejabberd (ejabberd's schema, pg.new.sql)
#   switchboard         owns database switchboard (Switchboard's tables; it migrates them itself)
#   switchboard_reader  may read only the SCRAM columns of ejabberd's users table (EJABBERD_DATABASE_URL)
# Passwords from the environment; every later start only runs the server.
set -eu
: "${EJABBERD_DB_PASSWORD:?}" "${SWITCHBOARD_DB_PASSWORD:?}" "${READER_DB_PASSWORD:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 -q -d postgres \
    -v ejabberd="$EJABBERD_DB_PASSWORD" -v switchboard="$SWITCHBOARD_DB_PASSWORD" -v reader="$READER_DB_PASSWORD" <<'SQL'
CREATE ROLE ejabberd LOGIN PASSWORD :'ejabberd';
CREATE ROLE switchboard LOGIN PASSWORD :'switchboard';
CREATE ROLE switchboard_reader LOGIN PASSWORD :'reader';
CREATE DATABASE ejabberd OWNER ejabberd;
CREATE DATABASE switchboard OWNER switchboard;
SQL
  # ejabberd's tables owned by ejabberd (psql runs -c and -f in order, in one session)
  psql -v ON_ERROR_STOP=1 -q -d ejabberd -c "SET ROLE ejabberd" -f /usr/local/share/switchboard/ejabberd-pg.sql
  psql -v ON_ERROR_STOP=1 -q -d ejabberd \
    -c "GRANT SELECT (username, server_host, password, serverkey, salt, iterationcount) ON users TO switchboard_reader"
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "docker-entrypoint: database initialised"
fi
exec postgres -D "$PGDATA"
