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
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

pg() { bash "$HERE/postgres.sh" "$@"; }
kafka() { bash "$HERE/kafka.sh" "$@"; }
s3() { bash "$HERE/s3proxy.sh" "$@"; }
mail() { bash "$HERE/mailpit.sh" "$@"; }

cmd_up() {
  # Postgres first: it is quick, and services need their schema before they consume events.
  pg start
  kafka start
  s3 start
  mail start
}

cmd_install() {
  pg install
  kafka install
  s3 install
  mail install
}

cmd_down() {
  # Stop both even if the first stop fails, then report the failure.
  local rc=0
  mail stop || rc=$?
  s3 stop || rc=$?
  kafka stop || rc=$?
  pg stop || rc=$?
  return "$rc"
}

cmd_reset() {
  local rc=0
  mail reset || rc=$?
  s3 reset || rc=$?
  kafka reset || rc=$?
  pg reset || rc=$?
  return "$rc"
}

cmd_status() {
  local rc=0
  status_header
  pg status || rc=$?
  kafka status || rc=$?
  s3 status || rc=$?
  mail status || rc=$?
  return "$rc"
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
