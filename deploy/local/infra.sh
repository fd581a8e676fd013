#!/usr/bin/env bash
# Local infrastructure for Aligned: PostgreSQL + Apache Kafka + an S3 object store (s3proxy)
# + a mail server with a web mailbox (Mailpit), no Docker needed.
#
#   infra.sh install|up|down|reset|status|env
#
#   install fetch or build what each server runs (jars, the Mailpit binary, PostgreSQL); no start
#   up      start PostgreSQL, Kafka, s3proxy and Mailpit; returns once all really serve (idempotent)
#   down    stop Mailpit, s3proxy, Kafka, then PostgreSQL (data is kept)
#   reset   stop all and delete their data (jars and binaries are kept); `up` starts from scratch
#   status  a table: one row per server with its pid, port and health; exit 0 only if all run
#   env     print `export` lines for the services:  eval "$(deploy/local/infra.sh env)"
#
# Every step is idempotent and each server runs in its own session, so a Ctrl-C during `up`
# leaves nothing that the next `up` cannot pick up. See deploy/local/README.md.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

pg() { bash "$HERE/postgres.sh" "$@"; }
kafka() { bash "$HERE/kafka.sh" "$@"; }
s3() { bash "$HERE/s3proxy.sh" "$@"; }
mail() { bash "$HERE/mailpit.sh" "$@"; }

# Postgres first: it is quick, and services need their schema before they consume events.
SERVERS=(pg kafka s3 mail)
STOP_ORDER=(mail s3 kafka pg)

# on_each COMMAND SERVER...: COMMAND on every server even when one fails (a `down` must not
# leave the rest running); the status is the last failure's.
on_each() {
  local command="$1" server rc=0
  shift
  for server in "$@"; do "$server" "$command" || rc=$?; done
  return "$rc"
}

# in_turn COMMAND: COMMAND on each server in start order, stopping at the first that fails (set -e):
# `up` starts nothing on top of a server that did not come up.
in_turn() {
  local server
  for server in "${SERVERS[@]}"; do "$server" "$1"; done
}

cmd_up() { in_turn start; }
cmd_install() { in_turn install; }
cmd_down() { on_each stop "${STOP_ORDER[@]}"; }
cmd_reset() { on_each reset "${STOP_ORDER[@]}"; }

cmd_status() {
  status_header
  on_each status "${SERVERS[@]}"
}

cmd_env() {
  cat <<EOF
export ALIGNED_DATABASE_URL=postgresql://aligned:aligned@127.0.0.1:${ALIGNED_PG_PORT:-15432}/aligned
export ALIGNED_KAFKA_BOOTSTRAP=127.0.0.1:${ALIGNED_KAFKA_PORT:-19092}
export ALIGNED_S3_ENDPOINT_URL=http://127.0.0.1:${ALIGNED_S3_PORT:-19900}
export ALIGNED_S3_BUCKET=${ALIGNED_S3_BUCKET:-aligned-media}
export ALIGNED_S3_ACCESS_KEY_ID=${ALIGNED_S3_ACCESS_KEY_ID:-aligned}
export ALIGNED_S3_SECRET_ACCESS_KEY=${ALIGNED_S3_SECRET_ACCESS_KEY:-aligned-local-secret}
export ALIGNED_SMTP_PORT=${ALIGNED_SMTP_PORT:-19025}
export ALIGNED_MAILPIT_HTTP_PORT=${ALIGNED_MAILPIT_HTTP_PORT:-19825}
EOF
}

case "${1:-}" in
  install | up | down | reset | status | env) "cmd_$1" ;;
  *)
    echo "usage: $0 install|up|down|reset|status|env" >&2
    exit 2
    ;;
esac
