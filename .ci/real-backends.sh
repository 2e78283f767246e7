# Start and stop a private redis-server and PostgreSQL cluster on free loopback ports under a temp dir.
# Sourced by .ci/run; usable by hand: `. .ci/real-backends.sh; start_real_backends; echo $POSTGRES_URL`.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_real_backends() {
  REAL_DIR=$(mktemp -d /tmp/imdemo-backends.XXXXXX)
  chmod 755 "$REAL_DIR"
  local rport pport pgbin
  rport=$(free_port); pport=$(free_port)
  redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no --daemonize yes \
    --dir "$REAL_DIR" --pidfile "$REAL_DIR/redis.pid" --logfile "$REAL_DIR/redis.log" || return 1
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir "$REAL_DIR/pg" && chown postgres "$REAL_DIR/pg"
  su postgres -s /bin/sh -c "$pgbin/initdb -D $REAL_DIR/pg -A trust -U postgres" >"$REAL_DIR/initdb.log" 2>&1 || return 1
  su postgres -s /bin/sh -c "$pgbin/pg_ctl -D $REAL_DIR/pg -l $REAL_DIR/pg/log -w start -o \
    '-p $pport -k $REAL_DIR/pg -c listen_addresses=127.0.0.1 -c max_connections=500 -F'" >/dev/null || return 1
  PG_CTL="$pgbin/pg_ctl"
  REDIS_URL="redis://127.0.0.1:$rport/0"
  POSTGRES_URL="postgresql://postgres@127.0.0.1:$pport/postgres"
  export REDIS_URL POSTGRES_URL
  echo "real backends: $REDIS_URL $POSTGRES_URL"
}

stop_real_backends() {
  [ -n "${REAL_DIR:-}" ] || return 0
  [ -f "$REAL_DIR/redis.pid" ] && kill "$(cat "$REAL_DIR/redis.pid")" 2>/dev/null
  [ -n "${PG_CTL:-}" ] && su postgres -s /bin/sh -c "$PG_CTL -D $REAL_DIR/pg -m fast -w stop" >/dev/null 2>&1
  rm -rf "$REAL_DIR"
}
