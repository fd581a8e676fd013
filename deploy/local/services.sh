#!/usr/bin/env bash
# Run Aligned's services as local processes (after infra.sh up).
#
#   services.sh migrate|up|down|status
#
#   migrate  apply every service's migrations (idempotent; safe to run twice at once)
#   up       start every service that is not running, wait until each answers /healthz,
#            and print where the gateway (or each service) listens
#   down     stop them (SIGTERM: in-flight messages finish), SIGKILL after a timeout
#   status   a table: one row per service with its pid, port and health (/healthz)
#   logs     logs NAME: follow one service's (or server's) log, JSON lines made readable
#
# Services are found under services/*/ (a package with __main__.py). Logs and pid files
# live in .local/; development secrets are generated once into .local/secrets.env.
# `up` also makes the demo brand through the gateway (deploy/local/demo.py setup) and prints
# a token for it. An interrupted `up` stops what it started (never a half-started system).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN_DIR="$ALIGNED_LOCAL_DIR/run"
LOG_DIR="$ALIGNED_LOCAL_DIR/logs"
PYTHON="$ALIGNED_REPO_ROOT/.venv/bin/python"

# Where each service listens: fixed ports, so the demo and a developer's bookmarks do not move;
# ALIGNED_LOCAL_PORT_OFFSET shifts them all and ALIGNED_<NAME>_HTTP_PORT moves one (local_ports()
# in aligned_common.localrun, read by load_env).
declare -A PORTS=()

service_names() {
  local dir name
  for dir in "$ALIGNED_REPO_ROOT"/services/*/; do
    name="$(basename "$dir")"
    [[ -f "$dir/src/aligned_$name/__main__.py" ]] && echo "$name"
  done
  return 0
}

# The wiring (where each service listens, who calls whom, development secrets kept in
# .local/secrets.env) is written once, in aligned_common.localrun, and shared with
# the end-to-end tests; here it is read with make up's fixed ports.
load_env() {
  local exports name var
  exports="$("$PYTHON" -m aligned_common.localrun env)" || die "could not compute the services' environment"
  eval "$exports"
  for name in $(service_names); do
    var="ALIGNED_${name^^}_HTTP_PORT"
    PORTS[$name]="${!var:-}"
  done
}

# The web mailbox every mail of the platform lands in (deploy/local/mailpit.sh).
MAILBOX_URL="http://127.0.0.1:${ALIGNED_MAILPIT_HTTP_PORT:-19825}"

# The pid in a service's pid file, if that process is still this service (a pid file left by
# a crash may name a pid the kernel has since given to another program).
pid_of() {
  local pid
  pid="$(cat "$RUN_DIR/$1.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == *"aligned_$1"* ]]; then
    echo "$pid"
  fi
}

# Every service migrates side by side (each takes an advisory lock on its own schema, as in the
# tests); each run's log goes to the service's log file, the terminal gets one line per service.
cmd_migrate() {
  load_env
  local name out rc failed="" tmp
  mkdir -p "$LOG_DIR"
  tmp="$(mktemp -d)"
  for name in $(service_names); do
    [[ "$name" == sandbox ]] && continue
    ("$PYTHON" -m "aligned_$name" migrate >"$tmp/$name.out" 2>&1; echo $? >"$tmp/$name.rc") 9>&- &
  done
  timed "migrating every service's schema" wait
  for name in $(service_names); do
    [[ "$name" == sandbox ]] && continue
    out="$(cat "$tmp/$name.out")"
    rc="$(cat "$tmp/$name.rc")"
    printf '%s\n' "$out" >>"$LOG_DIR/$name.log"
    if [[ "$rc" != 0 ]]; then
      printf '%s\n' "$out" | tail -n 20 >&2
      log "$name: migrations failed; see $LOG_DIR/$name.log"
      failed+=" $name"
    else
      # The summary is the one line that is not a JSON log record.
      log "$(grep -v '^{' <<<"$out" | tail -n 1)"
    fi
  done
  rm -rf "$tmp"
  [[ -z "$failed" ]] || die "migrations failed for:$failed"
}

start_one() {
  local name="$1" port="${PORTS[$1]:-}" pid upper
  [[ -n "$port" ]] || die "no local port for service $name (add it to LOCAL_PORTS in aligned_common.localrun)"
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then
    log "$name already running (pid $pid)"
    return 0
  fi
  if port_open "$port"; then
    die "port $port ($name) is taken by a process that is not ours; free it, or move every port with ALIGNED_LOCAL_PORT_OFFSET=<n>"
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  upper="${name^^}"
  if [[ "$name" == sandbox ]]; then
    spawn "$RUN_DIR/$name.pid" "$LOG_DIR/$name.log" \
      "$PYTHON" -m aligned_sandbox serve --port "$port" --log-level warning
  else
    spawn "$RUN_DIR/$name.pid" "$LOG_DIR/$name.log" \
      env "ALIGNED_${upper}_HTTP_PORT=$port" "$PYTHON" -m "aligned_$name" serve
  fi
  STARTED_NOW+=("$name")
}

healthy() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/healthz" 2>/dev/null; }

wait_healthy() {
  local name="$1" port="${PORTS[$1]}" i
  for ((i = 0; i < 1200; i++)); do
    if healthy "$port"; then
      return 0
    fi
    pid_alive "$(pid_of "$name")" || die "$name exited during start; see $LOG_DIR/$name.log"
    sleep 0.1
  done
  die "$name did not answer /healthz on port $port within 120 s; see $LOG_DIR/$name.log"
}

wait_all_healthy() {
  local name t0="$EPOCHREALTIME"
  for name in $1; do
    wait_healthy "$name"
    log "$name healthy on port ${PORTS[$name]} ($(since "$t0") since the start)"
  done
}

# Services this `up` started. A Ctrl-C (or a failure) before all are healthy stops exactly
# these again, so an interrupted `up` leaves what ran before it, never a half-started system;
# the next `up` starts from a clean slate.
STARTED_NOW=()

undo_partial_up() {
  local rc=$? name
  trap - INT TERM EXIT
  if ((${#STARTED_NOW[@]})); then
    log "start interrupted; stopping what this run started: ${STARTED_NOW[*]}"
    for name in "${STARTED_NOW[@]}"; do stop_one "$name"; done
  fi
  exit "$((rc == 0 ? 130 : rc))"
}

cmd_up() {
  load_env
  mkdir -p "$RUN_DIR"
  take_lock "$RUN_DIR/services.lock"
  local name names
  names="$(service_names | tr "\n" " ")"
  trap undo_partial_up INT TERM EXIT
  for name in $names; do start_one "$name"; done
  timed "waiting until every service answers /healthz" wait_all_healthy "$names"
  trap 'log "interrupted"; exit 130' INT TERM
  trap - EXIT
  echo
  if [[ " $names " == *" gateway "* ]]; then
    echo "Aligned is up: gateway at http://127.0.0.1:${PORTS[gateway]} (OpenAPI: /docs)"
    echo "               mailbox at $MAILBOX_URL (every e-mail the platform sends)"
  else
    echo "Aligned is up (no gateway yet); services:"
  fi
  for name in $names; do
    printf '  %-12s http://127.0.0.1:%s   log: %s\n' "$name" "${PORTS[$name]}" "$LOG_DIR/$name.log"
  done
  if [[ " $names " != *" gateway "* ]]; then
    echo "Stop with: make down"
  else
    # The demo tenant, brand, owner and client, made through the gateway's own API (idempotent).
    "$PYTHON" "$ALIGNED_DEPLOY_DIR/demo.py" setup || log "could not set up the demo brand (see above)"
  fi
}

# stop_one NAME [PID]: SIGTERM, wait up to 30 s for the process to be gone, then SIGKILL.
# Given a PID, the SIGTERM was sent already (uvicorn takes a second one as "exit now, skip
# the graceful part"); the wait is on that PID, as an exiting process loses its cmdline.
stop_one() {
  local name="$1" pid="${2:-}"
  if [[ -z "$pid" ]]; then
    pid="$(pid_of "$name")"
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null
  fi
  if [[ -n "$pid" ]]; then
    await_exit "$name" "$pid" 30
    log "$name stopped"
  fi
  rm -f "$RUN_DIR/$name.pid"
}

cmd_down() {
  mkdir -p "$RUN_DIR"
  take_lock "$RUN_DIR/services.lock"
  local name
  declare -A signalled=()
  # SIGTERM to all first, so they drain side by side; then wait for each.
  for name in $(service_names); do
    signalled[$name]="$(pid_of "$name")"
    [[ -n "${signalled[$name]}" ]] && kill -TERM "${signalled[$name]}" 2>/dev/null
  done
  for name in $(service_names); do stop_one "$name" "${signalled[$name]}"; done
}

cmd_status() {
  load_env
  local name pid rc=0
  status_header
  for name in $(service_names); do
    pid="$(pid_of "$name")"
    if pid_alive "$pid"; then
      status_row "$name" "$pid" "${PORTS[$name]}" "$(healthy "${PORTS[$name]}" && echo healthy || echo down)" \
        "http://127.0.0.1:${PORTS[$name]}, log $LOG_DIR/$name.log"
    else
      status_row "$name" - "${PORTS[$name]}" stopped "log $LOG_DIR/$name.log"
      rc=3
    fi
  done
  return "$rc"
}

# Follow one log from its end, JSON records made readable (deploy/local/logs.py); the servers'
# own logs (postgres, kafka, s3proxy, mailpit) are followed as they are.
cmd_logs() {
  local name="${1:-}" file
  case "$name" in
    postgres) file="$ALIGNED_LOCAL_DIR/postgres/log/postgres.log" ;;
    kafka) file="$ALIGNED_LOCAL_DIR/kafka/logs/server.log" ;;
    s3proxy) file="$ALIGNED_LOCAL_DIR/s3proxy/s3proxy.out" ;;
    mailpit) file="$ALIGNED_LOCAL_DIR/mailpit/mailpit.out" ;;
    *)
      # Not `service_names | grep -q`: with pipefail, grep's early exit would SIGPIPE the producer.
      [[ -n "$name" && " $(service_names | tr '\n' ' ') " == *" $name "* ]] ||
        die "usage: make logs SERVICE=<name>, one of: $(service_names | tr '\n' ' ')postgres kafka s3proxy mailpit"
      file="$LOG_DIR/$name.log"
      ;;
  esac
  [[ -f "$file" ]] || die "no log yet at $file (has it run? make up)"
  log "following $file (Ctrl-C to stop)"
  tail -n "${LINES_BACK:-50}" -F "$file" | "$PYTHON" "$ALIGNED_DEPLOY_DIR/logs.py"
}

case "${1:-}" in
  migrate | up | down | status) "cmd_$1" ;;
  logs) cmd_logs "${2:-}" ;;
  *)
    echo "usage: $0 migrate|up|down|status|logs NAME" >&2
    exit 2
    ;;
esac
