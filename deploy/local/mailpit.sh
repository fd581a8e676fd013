#!/usr/bin/env bash
# Local mail server (Mailpit): every e-mail the platform sends lands here, in a web mailbox
# with a search API, instead of nowhere.
#
#   mailpit.sh install|start|stop|wait|status|reset|kill
#
# The binary is built once from the Go module proxy (`go install github.com/axllent/mailpit@v…`)
# into a cache under .local/mailpit (its own GOPATH, GOBIN and build cache, so nothing lands in
# ~/go and deleting .local/ removes it all), and runs in its own session (like s3proxy.sh), so a
# Ctrl-C in the terminal that started it never kills it half-way. Messages are kept in a SQLite
# file under .local/mailpit/ across restarts.
#
# Environment (all optional):
#   ALIGNED_LOCAL_DIR              state root                          (default <repo>/.local)
#   ALIGNED_SMTP_PORT              SMTP listener                       (default 19025)
#   ALIGNED_MAILPIT_HTTP_PORT      web mailbox and API                 (default 19825)
#   ALIGNED_MAILPIT_VERSION        module version to build             (default v1.33.1)
#   ALIGNED_MAILPIT_CACHE          Go cache + binary, shared by all instances (default <repo>/.local/mailpit/cache)
#   ALIGNED_MAILPIT_MAX_MESSAGES   oldest mails are pruned beyond this (default 20000: a test run sends thousands)
#   ALIGNED_MAILPIT_WAIT_TIMEOUT   seconds `wait` may take             (default 30)

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMTP_PORT="${ALIGNED_SMTP_PORT:-19025}"
HTTP_PORT="${ALIGNED_MAILPIT_HTTP_PORT:-19825}"
VERSION="${ALIGNED_MAILPIT_VERSION:-v1.33.1}"
MAX_MESSAGES="${ALIGNED_MAILPIT_MAX_MESSAGES:-20000}"
WAIT_TIMEOUT="${ALIGNED_MAILPIT_WAIT_TIMEOUT:-30}"
MP_DIR="$ALIGNED_LOCAL_DIR/mailpit"
DB_FILE="$MP_DIR/mailpit.db"
PID_FILE="$MP_DIR/mailpit.pid"
OUT_FILE="$MP_DIR/mailpit.out"
CACHE="${ALIGNED_MAILPIT_CACHE:-$ALIGNED_REPO_ROOT/.local/mailpit/cache}"
BIN="$CACHE/bin/mailpit"
URL="http://127.0.0.1:$HTTP_PORT"
SERVER=mailpit
OWN_FILE="$DB_FILE"
OWN_CMDLINE="mailpit --database $DB_FILE "
STOP_TIMEOUT=30

# Build the binary once per version: the stamp names the version it was built from, so this is
# a no-op while the version is unchanged and rebuilds after a bump.
cmd_install() {
  if [[ -x "$BIN" && "$(cat "$BIN.version" 2>/dev/null)" == "$VERSION" ]]; then
    return 0
  fi
  mkdir -p "$CACHE"
  # The cache is shared by every instance (different ALIGNED_LOCAL_DIRs), so it has its own lock.
  exec 8>"$CACHE.lock"
  flock -w 900 8 || die "could not lock $CACHE.lock"
  if [[ -x "$BIN" && "$(cat "$BIN.version" 2>/dev/null)" == "$VERSION" ]]; then
    return 0 # another process built it while we waited
  fi
  # Go >= 1.21 fetches the newer toolchain Mailpit's go.mod asks for (1.26) from the module proxy
  # by itself; Debian 12's golang-go (1.19) is too old for that, so no apt fallback here.
  command -v go >/dev/null || die "Go 1.21 or newer is needed to build Mailpit (https://go.dev/dl/)"
  log "building into $CACHE: modules from the Go module proxy, then a compile (minutes the first time)"
  timed "go install github.com/axllent/mailpit@$VERSION" build
}

build() {
  local tmp="$CACHE/bin.tmp.$$"
  rm -rf "$CACHE"/bin.tmp.*
  # -modcacherw: Go makes its module cache read-only, which would make `rm -rf .local` fail.
  # Build into a side directory and move the binary into place, so an interrupted build never
  # leaves something that looks installed.
  if ! GOPATH="$CACHE/go" GOBIN="$tmp" GOCACHE="$CACHE/go-build" GOFLAGS=-modcacherw \
    go install "github.com/axllent/mailpit@$VERSION" >"$CACHE/build.log" 2>&1; then
    tail -n 30 "$CACHE/build.log" >&2
    die "go install github.com/axllent/mailpit@$VERSION failed (full log: $CACHE/build.log)"
  fi
  mkdir -p "$(dirname "$BIN")"
  mv "$tmp/mailpit" "$BIN"
  echo "$VERSION" >"$BIN.version"
  # The binary is all that runs; the module and build caches (~800 MB) only served this build.
  rm -rf "$tmp" "$CACHE/go" "$CACHE/go-build"
}

# Serving = the API's readiness answer, and the SMTP port accepts connections.
serves() {
  curl -fs -o /dev/null --max-time 2 "$URL/readyz" 2>/dev/null && port_open "$SMTP_PORT"
}

cmd_wait() {
  wait_serving mailpit "$(find_pid)" serves "$WAIT_TIMEOUT" 0.2 "$OUT_FILE" "SMTP 127.0.0.1:$SMTP_PORT, mailbox $URL"
}

cmd_start() {
  cmd_install
  if already_running; then
    cmd_wait
    return 0
  fi
  ports_free "$SMTP_PORT" "$HTTP_PORT"
  mkdir -p "$MP_DIR"
  log "starting mailpit: SMTP 127.0.0.1:$SMTP_PORT, mailbox $URL, messages in $DB_FILE"
  # Any SMTP login is accepted (a service configured with credentials still delivers), over
  # plain SMTP on loopback; no reverse DNS or version check: nothing leaves the machine.
  spawn "$PID_FILE" "$OUT_FILE" "$BIN" --database "$DB_FILE" --smtp "127.0.0.1:$SMTP_PORT" \
    --listen "127.0.0.1:$HTTP_PORT" --max "$MAX_MESSAGES" --smtp-auth-accept-any \
    --smtp-auth-allow-insecure --smtp-disable-rdns --disable-version-check --label "Aligned (local)"
  cmd_wait
}

cmd_reset() {
  cmd_stop
  rm -f "$DB_FILE" "$DB_FILE"-* "$OUT_FILE"
  log "messages deleted ($DB_FILE)"
}

cmd_status() {
  server_status mailpit "$(find_pid)" "$SMTP_PORT" serves "mailbox $URL, log $OUT_FILE" "messages $DB_FILE"
}

main() { run_server_command "$MP_DIR/.lock" "$@"; }

main "$@"
