#!/bin/sh
# Starts one PostgreSQL node of the rag stack, as the database user, then exec's the server so
# the pid the supervisor holds is the postmaster (promote mode) or Patroni (patroni mode).
# Environment (from stack.yaml): MODE NAME ROLE PGBIN PGDATA CONF_DIR PEER UPSTREAM PATRONI ETCD.
set -eu
export PATH="$PGBIN:$PATH"
umask 077

conninfo() {  # "host:port" -> a libpq connection string
  echo "host=${1%:*} port=${1##*:} user=postgres dbname=postgres connect_timeout=2"
}

peer_is_primary() {
  [ -n "$PEER" ] || return 1
  [ "$(psql -Atq -d "$(conninfo "$PEER")" -c 'select not pg_is_in_recovery()' 2>/dev/null)" = t ]
}

if [ "$MODE" = patroni ]; then
  if [ ! -s "$PGDATA/PG_VERSION" ] && [ "$ROLE" = standby ]; then
    # first bootstrap: the primary region's node takes the leader lock and initialises
    until etcdctl --endpoints="$ETCD" get --prefix /gameday/rag/leader 2>/dev/null | grep -q .; do
      sleep 0.2
    done
  fi
  exec "$PATRONI" "$CONF_DIR/patroni.yml"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ "$ROLE" = primary ]; then
    initdb -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
  else
    until pg_isready -q -d "$(conninfo "$UPSTREAM")"; do sleep 0.2; done
    pg_basebackup -D "$PGDATA" -d "$(conninfo "$UPSTREAM")" -X stream -c fast
    touch "$PGDATA/standby.signal"
    echo "primary_conninfo = '$(conninfo "$UPSTREAM") application_name=$NAME'" \
      >> "$PGDATA/postgresql.auto.conf"
  fi
elif [ ! -f "$PGDATA/standby.signal" ] && peer_is_primary; then
  # back after a failover: the other node is the primary now, so this one rejoins as its
  # standby (never a second primary). pg_rewind needs a cleanly shut down target: crash
  # recovery first, in single-user mode, as Patroni does.
  echo "start.sh: $NAME rejoins as a standby of $PEER (pg_rewind)" >&2
  postgres --single -D "$PGDATA" -c config_file="$CONF_DIR/postgresql.conf" \
    -c hba_file="$CONF_DIR/pg_hba.conf" postgres </dev/null >/dev/null
  pg_rewind -D "$PGDATA" --source-server="$(conninfo "$UPSTREAM")" -P >&2
  touch "$PGDATA/standby.signal"
  echo "primary_conninfo = '$(conninfo "$UPSTREAM") application_name=$NAME'" \
    >> "$PGDATA/postgresql.auto.conf"
fi
chmod 700 "$PGDATA"
exec postgres -D "$PGDATA" -c config_file="$CONF_DIR/postgresql.conf" \
  -c hba_file="$CONF_DIR/pg_hba.conf"
