#!/usr/bin/env bash
# Run Aligned's services as local processes (after infra.sh up).
#
#   services.sh migrate|up|down|status
#
#   migrate  apply every service's migrations (idempotent; safe to run twice at once)
#   up       start every service that is not running, wait until each answers /healthz,
#            and print where the gateway (or each service) listens
#   down     stop them (SIGTERM: in-flight messages finish), SIGKILL after a timeout
#   status   one line per service
#
# Services are found under services/*/ (a package with __main__.py). Logs and pid files
# live in .local/; development secrets are generated once into .local/secrets.env.
set -euo pipefail
LOG_TAG=services
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'log "interrupted"; exit 130' INT TERM

RUN_DIR="$ALIGNED_LOCAL_DIR/run"
LOG_DIR="$ALIGNED_LOCAL_DIR/logs"
SECRETS="$ALIGNED_LOCAL_DIR/secrets.env"
PYTHON="$ALIGNED_REPO_ROOT/.venv/bin/python"

# Fixed local ports, so the demo and a developer's bookmarks do not move.
declare -A PORTS=([gateway]=8000 [publishing]=8101 [approval]=8102 [connections]=8103
                  [analytics]=8104 [webhooks]=8105 [sandbox]=18080)

service_names() {
  local dir name
  for dir in "$ALIGNED_REPO_ROOT"/services/*/; do
    name="$(basename "$dir")"
    [[ -f "$dir/src/aligned_$name/__main__.py" ]] && echo "$name"
  done
  return 0
}

# Random development secrets, made once and kept so restarts can read old ciphertexts.
ensure_secrets() {
  [[ -s "$SECRETS" ]] && return 0
  mkdir -p "$ALIGNED_LOCAL_DIR"
  log "generating development secrets in $SECRETS"
  umask 077
  "$PYTHON" - >"$SECRETS" <<'PY'
import base64, json, secrets
def b64(n): return base64.b64encode(secrets.token_bytes(n)).decode()
values = {
    "ALIGNED_INTERNAL_SECRET": secrets.token_hex(32),
    "ALIGNED_APPROVAL_LINK_SECRET": secrets.token_hex(32),
    "ALIGNED_CONNECTIONS_ENCRYPTION_KEYS": json.dumps({"k1": b64(32)}),
    "ALIGNED_CONNECTIONS_ACTIVE_KEY_ID": "k1",
    "ALIGNED_CONNECTIONS_STATE_SECRET": secrets.token_hex(32),
    "ALIGNED_WEBHOOKS_ENCRYPTION_KEY": b64(32),
    "ALIGNED_WEBHOOKS_SANDBOX_SECRET": "whsec_" + b64(24),
    "ALIGNED_GATEWAY_JWT_SECRET": secrets.token_hex(32),
}
for key, value in values.items():
    print(f"export {key}='{value}'")
PY
}

load_env() {
  ensure_secrets
  # shellcheck disable=SC1090
  source "$SECRETS"
  eval "$(bash "$ALIGNED_DEPLOY_DIR/infra.sh" env)"
  export ALIGNED_SANDBOX_URL="http://127.0.0.1:${PORTS[sandbox]}"
}

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }

cmd_migrate() {
  load_env
  local name
  for name in $(service_names); do
    [[ "$name" == sandbox ]] && continue
    "$PYTHON" -m "aligned_$name" migrate
  done
}

start_one() {
  local name="$1" port="${PORTS[$1]:-}" pid upper
  [[ -n "$port" ]] || die "no local port for service $name (add it to PORTS in $0)"
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then
    log "$name already running (pid $pid)"
    return 0
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  upper="${name^^}"
  if [[ "$name" == sandbox ]]; then
    setsid nohup "$PYTHON" -m aligned_sandbox serve --port "$port" >>"$LOG_DIR/$name.log" 2>&1 &
  else
    env "ALIGNED_${upper}_HTTP_PORT=$port" setsid nohup "$PYTHON" -m "aligned_$name" serve \
      >>"$LOG_DIR/$name.log" 2>&1 &
  fi
  echo $! >"$RUN_DIR/$name.pid"
}

wait_healthy() {
  local name="$1" port="${PORTS[$1]}" i
  for ((i = 0; i < 600; i++)); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      return 0
    fi
    pid_alive "$(pid_of "$name")" || die "$name exited during start; see $LOG_DIR/$name.log"
    sleep 0.1
  done
  die "$name did not answer /healthz on port $port within 60 s; see $LOG_DIR/$name.log"
}

cmd_up() {
  load_env
  take_lock "$RUN_DIR/services.lock"
  local name names
  names="$(service_names)"
  for name in $names; do start_one "$name"; done
  for name in $names; do wait_healthy "$name"; done
  echo
  if [[ " $names " == *" gateway "* ]]; then
    echo "Aligned is up: gateway at http://127.0.0.1:${PORTS[gateway]} (OpenAPI: /docs)"
  else
    echo "Aligned is up (no gateway yet); services:"
  fi
  for name in $names; do
    printf '  %-12s http://127.0.0.1:%s   log: %s\n' "$name" "${PORTS[$name]}" "$LOG_DIR/$name.log"
  done
  echo "Stop with: make down"
}

stop_one() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" 30; then
      log "$name did not stop in 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name stopped"
  fi
  rm -f "$RUN_DIR/$name.pid"
}

cmd_down() {
  mkdir -p "$RUN_DIR"
  take_lock "$RUN_DIR/services.lock"
  local name
  for name in $(service_names); do stop_one "$name"; done
}

cmd_status() {
  local name pid rc=0
  for name in $(service_names); do
    pid="$(pid_of "$name")"
    if pid_alive "$pid"; then
      echo "$name: running (pid $pid, port ${PORTS[$name]:-?})"
    else
      echo "$name: stopped"
      rc=3
    fi
  done
  return "$rc"
}

case "${1:-}" in
  migrate | up | down | status) "cmd_$1" ;;
  *)
    echo "usage: $0 migrate|up|down|status" >&2
    exit 2
    ;;
esac
