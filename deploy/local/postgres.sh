#!/usr/bin/env bash
# Local PostgreSQL (15+, Debian packages) for development and tests.
#
#   postgres.sh install|start|stop|wait|status|reset|kill
#
# A private cluster in <local dir>/postgres/data on 127.0.0.1:15432, independent of any
# system cluster. After start the login role `aligned` (password `aligned`, SUPERUSER: it is the
# owner/migration role) and the database `aligned` exist:
#   postgresql://aligned:aligned@127.0.0.1:15432/aligned
# and so does one login role per service with migrations (services/<name>/migrations), named
# after it, password `aligned`: NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOINHERIT, owning nothing.
# The services log in with it; the migration runner grants it its schema (ADR 0004).
#
# PostgreSQL refuses to run as root, so as root every server command runs as the `postgres`
# OS user (created by the Debian package) and <local dir>/postgres is owned by it. That user must
# be able to traverse every parent directory: missing o+x (search-only, not read) bits are added
# to those parents and reported, rather than moving the data somewhere outside the repo.
#
# Environment (all optional):
#   ALIGNED_LOCAL_DIR        state root (default <repo>/.local)
#   ALIGNED_PG_PORT          TCP port on 127.0.0.1 (default 15432)
#   ALIGNED_PG_BIN           server bin dir (default: newest /usr/lib/postgresql/*/bin)
#   ALIGNED_PG_WAIT_TIMEOUT  seconds `wait` may take (default 60)
#   ALIGNED_PG_STOP_TIMEOUT  seconds for a clean stop before SIGKILL (default 60)

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../postgres/service-roles.sh
source "$(dirname "${BASH_SOURCE[0]}")/../postgres/service-roles.sh"

PORT="${ALIGNED_PG_PORT:-15432}"
PG_DIR="$ALIGNED_LOCAL_DIR/postgres"
DATA_DIR="$PG_DIR/data"
LOG_FILE="$PG_DIR/log/postgres.log"
WAIT_TIMEOUT="${ALIGNED_PG_WAIT_TIMEOUT:-60}"
STOP_TIMEOUT="${ALIGNED_PG_STOP_TIMEOUT:-60}"
APP_ROLE=aligned
APP_PASSWORD=aligned
APP_DB=aligned
DATABASE_URL="postgresql://$APP_ROLE:$APP_PASSWORD@127.0.0.1:$PORT/$APP_DB"

# Unix socket paths are limited to ~107 bytes; a deeply nested checkout would overflow, so then
# fall back to a per-checkout directory under /tmp.
SOCKET_DIR="$PG_DIR/run"
if ((${#SOCKET_DIR} + ${#PORT} + 12 > 100)); then
  SOCKET_DIR="/tmp/aligned-pg-$(printf '%s' "$PG_DIR" | sha256sum | cut -c1-12)"
fi

PG_BIN="" # set by find_pg_bin

# ---------------------------------------------------------------- binaries

# Newest /usr/lib/postgresql/<major>/bin with a full server, or the one the existing data dir was
# created with (a cluster can only be run by its own major version).
find_pg_bin() {
  local dir ver
  if [[ -n "${ALIGNED_PG_BIN:-}" ]]; then
    PG_BIN="$ALIGNED_PG_BIN"
    return 0
  fi
  if [[ -f "$DATA_DIR/PG_VERSION" ]]; then
    ver="$(cat "$DATA_DIR/PG_VERSION")"
    dir="/usr/lib/postgresql/$ver/bin"
    if has_server "$dir"; then
      PG_BIN="$dir"
      return 0
    fi
  fi
  PG_BIN=""
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    has_server "$dir" && PG_BIN="$dir"
  done
  [[ -n "$PG_BIN" ]]
}

has_server() { [[ -x "$1/pg_ctl" && -x "$1/initdb" && -x "$1/postgres" ]]; }

cmd_install() {
  if find_pg_bin; then
    return 0
  fi
  is_root || die "no PostgreSQL server found in /usr/lib/postgresql/*/bin; install the Debian package 'postgresql' (sudo apt-get install -y postgresql)"
  timed "no PostgreSQL server found; installing the Debian package 'postgresql'" install_server
  find_pg_bin || die "installed 'postgresql' but found no server in /usr/lib/postgresql/*/bin"
  log "installed $("$PG_BIN/postgres" --version)"
}

install_server() {
  apt-get update -qq
  # Install postgresql-common first and turn off its default 'main' cluster: otherwise the
  # package would create (and possibly start) a system cluster on 5432 that nobody uses.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-common >/dev/null
  pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster off || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# ---------------------------------------------------------------- running as the postgres user

# Run a server command as the data dir's owner: `postgres` when we are root, else ourselves.
# cd / first: the caller's cwd (e.g. /root) may be unreadable for postgres.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Make every parent of $PG_DIR searchable by the postgres user (see the header comment).
# Walk top-down: `test -x` as postgres fails for every dir below the first blocked one, so
# fixing parents first means only the directories that really lack the bit get changed.
ensure_traversable() {
  local d="$PG_DIR" dirs=()
  while [[ "$d" != / ]]; do
    d="$(dirname "$d")"
    dirs=("$d" "${dirs[@]}")
  done
  for d in "${dirs[@]}"; do
    if ! runuser -u postgres -- test -x "$d"; then
      log "adding o+x to $d so the postgres user can reach $PG_DIR"
      chmod o+x "$d"
    fi
  done
}

ensure_dirs() {
  mkdir -p "$PG_DIR/log" "$SOCKET_DIR"
  if is_root; then
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' is missing (it comes with the Debian package 'postgresql')"
    chown postgres:postgres "$PG_DIR" "$PG_DIR/log" "$SOCKET_DIR"
    ensure_traversable
  fi
  # The socket dir gives trust access as the superuser: keep it private to the owner.
  chmod 700 "$SOCKET_DIR"
}

# ---------------------------------------------------------------- cluster files

# initdb into a side directory and rename it into place, so an interrupted first start never
# leaves a half-initialised data dir that later looks real.
init_cluster() {
  local tmp="$PG_DIR/data.initdb"
  rm -rf "$tmp"
  log "initdb $DATA_DIR ($("$PG_BIN/postgres" --version))"
  # Local (socket) connections trust; TCP needs a password (scram), as in production.
  as_pg "$PG_BIN/initdb" -D "$tmp" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 --no-instructions >"$PG_DIR/log/initdb.log" 2>&1 ||
    { tail -n 20 "$PG_DIR/log/initdb.log" >&2; die "initdb failed"; }
  # Our settings live in aligned.conf (rewritten on each start); postgresql.conf only includes it.
  as_pg sh -c "echo \"include_if_exists = 'aligned.conf'\" >> '$tmp/postgresql.conf'"
  mv "$tmp" "$DATA_DIR"
}

write_conf() {
  as_pg tee "$DATA_DIR/aligned.conf" >/dev/null <<EOF
# Generated by deploy/local/postgres.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
max_connections = 300
shared_buffers = 256MB
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
# stderr goes to the file given to pg_ctl -l.
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# ---------------------------------------------------------------- process tracking

# Pids of every server process (postmaster and backends) of *this* data dir: postgres
# processes chdir into their data dir, so /proc/PID/cwd identifies them even if postmaster.pid
# is stale or its pid was recycled by an unrelated process.
server_pids() {
  local link pid exe
  for link in /proc/[0-9]*/cwd; do
    [[ "$(readlink "$link" 2>/dev/null)" == "$DATA_DIR" ]] || continue
    pid="${link#/proc/}"
    pid="${pid%/cwd}"
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    [[ "$(basename "${exe% (deleted)}")" == postgres ]] && pid_alive "$pid" && echo "$pid"
  done
  return 0
}

# The postmaster pid if the server of this data dir is running, else nothing.
postmaster_pid() {
  local pid
  [[ -f "$DATA_DIR/postmaster.pid" ]] || return 0
  pid="$(head -n1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)"
  # Not `server_pids | grep -q`: with pipefail, grep's early exit would SIGPIPE the producer.
  [[ -n "$pid" ]] && grep -qx -- "$pid" <<<"$(server_pids)" && echo "$pid"
  return 0
}

# After a crash: SIGKILL orphaned backends (they would keep the old shared memory in use and
# block a new postmaster) and remove lock files whose pid is not ours any more.
clear_stale_state() {
  local pids
  pids="$(server_pids)"
  if [[ -n "$pids" ]]; then
    log "killing orphaned server processes: $(echo "$pids" | tr '\n' ' ')"
    kill_pids "$pids"
  fi
  rm -f "$DATA_DIR/postmaster.pid" "$SOCKET_DIR/.s.PGSQL.$PORT" "$SOCKET_DIR/.s.PGSQL.$PORT.lock"
}

kill_pids() {
  local pid
  # shellcheck disable=SC2086 # word-split the pid list
  kill -KILL $1 2>/dev/null || true
  for pid in $1; do
    wait_pid_exit "$pid" 10 || die "pid $pid survived SIGKILL"
  done
}

# ---------------------------------------------------------------- commands

psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -U postgres -d postgres "$@"
}

cmd_wait() {
  local started=$SECONDS deadline=$((SECONDS + WAIT_TIMEOUT)) t0="$EPOCHREALTIME"
  find_pg_bin || die "PostgreSQL is not installed (run: $0 install)"
  log "waiting until it answers on 127.0.0.1:$PORT ..."
  # Ready = a real query answers on this cluster's own socket (pg_isready alone also says
  # "accepting" for a different server that happens to own the port).
  until psql_admin -Atc 'select 1' >/dev/null 2>&1; do
    if [[ -f "$DATA_DIR/PG_VERSION" && -z "$(postmaster_pid)" ]] && ((SECONDS - started > 5)); then
      tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
      die "server is not running; log: $LOG_FILE"
    fi
    ((SECONDS < deadline)) || die "server not ready after ${WAIT_TIMEOUT}s; log: $LOG_FILE"
    sleep 0.5
  done
  log "ready on 127.0.0.1:$PORT after $(since "$t0")"
}

# Idempotent: run on every start, so a first start interrupted before this point heals itself.
ensure_app_role() {
  psql_admin <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE;
  END IF;
END\$\$;
ALTER ROLE $APP_ROLE WITH LOGIN SUPERUSER PASSWORD '$APP_PASSWORD';
SELECT 'CREATE DATABASE $APP_DB OWNER $APP_ROLE'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$APP_DB')\gexec
SQL
  local dir name
  for dir in "$ALIGNED_REPO_ROOT"/services/*/migrations; do
    [[ -d "$dir" ]] || continue
    name="$(basename "$(dirname "$dir")")"
    [[ "$name" =~ ^[a-z][a-z0-9_]*$ ]] || die "service folder $name is not a valid role name"
    ensure_service_role "$name"
  done
  # Finally prove the URL the services use works end to end (TCP + scram password).
  "$PG_BIN/psql" -X -Atc 'select 1' "$DATABASE_URL" >/dev/null ||
    die "could not connect with $DATABASE_URL"
}

# A service's login role: it may not get round row-level security, whatever its code does
# (the SQL docker compose runs too: deploy/postgres/service-roles.sh).
ensure_service_role() {
  service_login_role_sql "$1" "$APP_PASSWORD" | psql_admin
}

cmd_start() {
  local pid
  cmd_install
  ensure_dirs
  pid="$(postmaster_pid)"
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid)"
  else
    clear_stale_state
    port_open "$PORT" && die "port $PORT is taken by a server that is not this cluster ($DATA_DIR)"
    [[ -f "$DATA_DIR/PG_VERSION" ]] || init_cluster
    write_conf
    log "starting on 127.0.0.1:$PORT, log $LOG_FILE"
    # pg_ctl puts the postmaster in its own session (setsid), so Ctrl-C here cannot kill it
    # half-way; -w waits until it accepts connections.
    # 9>&- 8>&-: the server must not inherit our lock fds, or it would hold the lock forever.
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$WAIT_TIMEOUT" -s start 9>&- 8>&- ||
      { tail -n 20 "$LOG_FILE" >&2; die "pg_ctl start failed"; }
  fi
  cmd_wait
  ensure_app_role
  log "$DATABASE_URL"
}

cmd_stop() {
  local pid
  find_pg_bin || { log "not installed"; return 0; }
  pid="$(postmaster_pid)"
  if [[ -z "$pid" ]]; then
    clear_stale_state
    log "not running"
    return 0
  fi
  log "stopping (pid $pid)"
  # fast = roll back open transactions and shut down cleanly (a checkpoint, no recovery later).
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t "$STOP_TIMEOUT" -s stop; then
    log "clean stop failed within ${STOP_TIMEOUT}s, sending SIGKILL"
    kill_pids "$(server_pids)"
  fi
  clear_stale_state
  log "stopped"
}

# Hard crash, for fault-injection tests: SIGKILL the postmaster and every backend; the next
# start runs crash recovery from the WAL.
cmd_kill() {
  local pids
  pids="$(server_pids)"
  if [[ -z "$pids" ]]; then
    log "not running"
    return 0
  fi
  kill_pids "$pids"
  log "killed server processes: $(echo "$pids" | tr '\n' ' ')"
}

cmd_reset() {
  cmd_stop
  rm -rf "$DATA_DIR" "$PG_DIR/data.initdb" "$PG_DIR/log"
  log "data deleted ($DATA_DIR); the next start runs initdb"
}

# Exit 0 when running, 3 when not (LSB convention).
cmd_status() {
  local pid health=down
  pid="$(postmaster_pid)"
  if [[ -z "$pid" ]]; then
    status_row postgres - "$PORT" stopped "data $DATA_DIR$([[ -f $DATA_DIR/PG_VERSION ]] || echo ', not initialised')"
    return 3
  fi
  find_pg_bin && psql_admin -Atc 'select 1' >/dev/null 2>&1 && health=healthy
  status_row postgres "$pid" "$PORT" "$health" "$DATABASE_URL, log $LOG_FILE"
}

main() { run_server_command "$PG_DIR/.lock" "$@"; }

main "$@"
