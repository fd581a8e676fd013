# shellcheck shell=bash
# shellcheck disable=SC2034 # variables used by the scripts that source this file
# Helpers shared by the deploy/local scripts. Sourced, never run: first thing in each script, so
# this is every script's preamble too (strict mode, log lines tagged with the script's name).
set -euo pipefail
LOG_TAG="${LOG_TAG:-$(basename "$0" .sh)}"

# Repo root = two levels above this file, so the scripts work from any cwd.
ALIGNED_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ALIGNED_DEPLOY_DIR="$ALIGNED_REPO_ROOT/deploy/local"
# All runtime state (jars, data, logs, pid files) lives here; .local/ is gitignored.
ALIGNED_LOCAL_DIR="${ALIGNED_LOCAL_DIR:-$ALIGNED_REPO_ROOT/.local}"

log() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# `make status`: one table for the servers and the services, a row each (status_row).
status_header() { printf '%-12s %-8s %-6s %-9s %s\n' NAME PID PORT HEALTH WHERE; }
# status_row NAME PID PORT HEALTH WHERE: PID "-" when stopped; HEALTH healthy|listening|down|stopped.
status_row() { printf '%-12s %-8s %-6s %-9s %s\n' "$1" "${2:--}" "$3" "$4" "$5"; }

# server_status NAME PID PORT CHECK RUNNING STOPPED: a server's row, healthy when CHECK succeeds;
# RUNNING / STOPPED say where it is in either case. Exit 3 when stopped (LSB convention).
server_status() {
  if [[ -z "$2" ]]; then
    status_row "$1" - "$3" stopped "$6"
    return 3
  fi
  status_row "$1" "$2" "$3" "$("$4" && echo healthy || echo down)" "$5"
}

# Wall-clock time since $1 (an $EPOCHREALTIME), e.g. "2.4 s".
since() { LC_ALL=C awk -v a="${1/,/.}" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f s", b - a }'; }

# A long step (a download, a build, a wait): one line when it starts and one when it ends with
# its time, so a first run that fetches for minutes never looks hung. A failure ends the script
# (set -e) with the step's own error message instead of the end line.
timed() {
  local what="$1" t0="$EPOCHREALTIME"
  shift
  log "$what ..."
  "$@"
  log "$what: done in $(since "$t0")"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# True when something accepts TCP connections on 127.0.0.1:$1 (bash /dev/tcp, no tools needed).
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when $1 is a live process (not a zombie).
pid_alive() {
  local pid="$1" state
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 1
  # Field 3 of /proc/PID/stat is the state; a zombie has exited already.
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# Command line of a process with NULs turned into spaces ("" if gone).
pid_cmdline() {
  tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true
}

# Wait up to $2 seconds for process $1 to exit. Returns 1 on timeout.
wait_pid_exit() {
  local pid="$1" timeout="$2" waited=0
  while pid_alive "$pid"; do
    ((waited >= timeout * 10)) && return 1
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Serialise start/stop/reset of one service: two `make infra-up` running at once must not
# both spawn a server. The lock is released automatically when the script exits.
take_lock() {
  local lockfile="$1"
  mkdir -p "$(dirname "$lockfile")"
  exec 9>"$lockfile"
  flock -w 300 9 || die "could not lock $lockfile within 300s (another start/stop still running?)"
}

# apt-get install as root, with one `apt-get update` first (a fresh image has no package lists).
apt_install() {
  is_root || die "please install the Debian package(s): $* (e.g. sudo apt-get install -y $*)"
  timed "installing Debian package(s) $*" apt_get_install "$@"
}

apt_get_install() {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Ctrl-C: stop at once with a clear message. Without this, bash carries on whenever the
# interrupted child (a JVM, pg_ctl) exits with a status instead of dying by the signal.
# Nothing is left half-done: every step is resumable by the next `start`.
trap 'log "interrupted"; exit 130' INT TERM

# Print the pid of our server, or nothing. The pid file ($2) is only a cache: if it is missing
# (Ctrl-C between spawn and write) or stale, scan /proc for command lines holding $3 (the
# server's own config file). $1 names the check that a pid really is ours, so a recycled pid
# (common in containers after a crash) is never signalled.
find_our_pid() {
  local is_ours="$1" pid_file="$2" needle="$3" pid f
  if [[ -f "$pid_file" ]]; then
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    if "$is_ours" "$pid"; then
      echo "$pid"
      return 0
    fi
  fi
  for f in $(grep -lsF -- "$needle" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    if "$is_ours" "$pid"; then
      echo "$pid" >"$pid_file"
      echo "$pid"
      return 0
    fi
  done
  rm -f "$pid_file"
}

# wait_serving NAME PID CHECK TIMEOUT INTERVAL LOGS WHERE: run CHECK every INTERVAL seconds until it
# succeeds, with a line before and one with the time taken after ("NAME serving on WHERE after 2.1 s").
# If the server (PID, from find_pid) dies meanwhile, show the end of its LOGS and fail at once
# instead of waiting out the TIMEOUT.
wait_serving() {
  local what="$1" pid="$2" check="$3" timeout="$4" interval="$5" logs="$6" where="$7"
  local deadline=$((SECONDS + timeout)) t0="$EPOCHREALTIME"
  log "waiting until $what serves on $where ..."
  until "$check"; do
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      # shellcheck disable=SC2086 # LOGS is a list of files
      tail -n 30 $logs >&2 2>/dev/null || true
      die "$what (pid $pid) exited during startup; logs: $logs"
    fi
    ((SECONDS < deadline)) || die "$what not serving on $where after ${timeout}s; logs: $logs"
    sleep "$interval"
  done
  log "$what serving on $where after $(since "$t0")"
}

# spawn PID_FILE OUT_FILE COMMAND...: COMMAND in its own session (setsid), so a Ctrl-C or hangup
# of the caller's terminal never reaches it, its output appended to OUT_FILE, its pid in PID_FILE.
# 9>&- 8>&-: it must not inherit our lock descriptors, or it would hold the locks as long as it runs.
spawn() {
  local pid_file="$1" out_file="$2"
  shift 2
  setsid nohup "$@" >>"$out_file" 2>&1 </dev/null 9>&- 8>&- &
  echo $! >"$pid_file"
}

# await_exit NAME PID TIMEOUT: after its SIGTERM, give PID TIMEOUT seconds to exit (its own clean
# shutdown), then SIGKILL it.
await_exit() {
  local what="$1" pid="$2" timeout="$3"
  if ! wait_pid_exit "$pid" "$timeout"; then
    log "$what still running after ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 10 || die "$what (pid $pid) survived SIGKILL"
  fi
}

# stop_server NAME PID PID_FILE TIMEOUT: SIGTERM, SIGKILL only after TIMEOUT seconds. PID is
# find_pid's answer ("" when not running).
stop_server() {
  local what="$1" pid="$2" pid_file="$3" timeout="$4"
  if [[ -z "$pid" ]]; then
    log "not running"
    return 0
  fi
  log "stopping $what (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  await_exit "$what" "$pid" "$timeout"
  rm -f "$pid_file"
  log "stopped"
}

# kill_server NAME PID PID_FILE: the instant SIGKILL crash of fault tests; the next start recovers.
kill_server() {
  local what="$1" pid="$2" pid_file="$3"
  if [[ -z "$pid" ]]; then
    log "not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait_pid_exit "$pid" 10 || die "pid $pid survived SIGKILL"
  rm -f "$pid_file"
  log "killed $what (pid $pid)"
}

# ---------------------------------------------------------------- servers spawned from here
# kafka.sh, s3proxy.sh and mailpit.sh run their server with `spawn` and find it again by its
# command line. Each sets, before these are called:
#   SERVER        its name in messages          PID_FILE, OUT_FILE  its pid file, its output
#   OWN_FILE      the config or data file that only this instance's command line names
#   OWN_CMDLINE   that part of the command line (as pid_cmdline prints it), so a recycled pid
#                 (common in containers after a crash) is never taken for ours
#   STOP_TIMEOUT  seconds from SIGTERM to SIGKILL
# and defines cmd_install, cmd_start, cmd_wait, cmd_reset and cmd_status.

is_our_server() {
  [[ "$(pid_cmdline "$1")" == *"$OWN_CMDLINE"* ]] && pid_alive "$1"
}

find_pid() { find_our_pid is_our_server "$PID_FILE" "$OWN_FILE"; }

# True (and said) when our server runs already: `start` then only waits for it.
already_running() {
  local pid
  pid="$(find_pid)"
  [[ -n "$pid" ]] || return 1
  log "already running (pid $pid)"
}

# ports_free PORT...: a port held by some other process is an error, before anything is spawned.
ports_free() {
  local port
  for port in "$@"; do
    port_open "$port" && die "port $port is taken by a process that is not this $SERVER ($OWN_FILE)"
  done
  return 0
}

cmd_stop() { stop_server "$SERVER" "$(find_pid)" "$PID_FILE" "$STOP_TIMEOUT"; }

# Hard crash, for fault-injection tests: no shutdown hook runs; the next start recovers.
cmd_kill() { kill_server "$SERVER" "$(find_pid)" "$PID_FILE"; }

usage() {
  echo "usage: $0 install|start|stop|wait|status|reset|kill" >&2
  exit 2
}

# The commands every server script takes: those that change the instance hold its lock ($1).
run_server_command() {
  local lock="$1"
  shift
  [[ $# -eq 1 ]] || usage
  case "$1" in
    install | start | stop | reset | kill)
      take_lock "$lock"
      "cmd_$1"
      ;;
    wait | status) "cmd_$1" ;;
    *) usage ;;
  esac
}

# Java and Maven for the servers that run from Maven Central jars (Kafka, s3proxy).
ensure_java_toolchain() {
  command -v "${JAVA_HOME:+$JAVA_HOME/bin/}java" >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
}

# Resolve a pom's runtime jars into $3 once per pom version: the stamp holds the pom's hash, so
# the step is a no-op (a few ms) while the pom is unchanged and re-resolves after a version bump.
# $1 names the server in messages, $2 is the pom.
install_maven_jars() {
  local what="$1" pom="$2" libs="$3" want tmp t0
  want="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$libs/.stamp" && "$(cat "$libs/.stamp")" == "$want" ]]; then
    return 0
  fi
  mkdir -p "$(dirname "$libs")"
  # libs/ is shared by every instance (different ALIGNED_LOCAL_DIRs), so it has its own lock.
  exec 8>"$libs.lock"
  flock -w 600 8 || die "could not lock $libs.lock"
  if [[ -f "$libs/.stamp" && "$(cat "$libs/.stamp")" == "$want" ]]; then
    return 0 # another process installed it while we waited
  fi
  ensure_java_toolchain
  t0="$EPOCHREALTIME"
  log "resolving $what jars from Maven Central into $libs (a minute or two the first time) ..."
  # Resolve into a temp dir and rename at the end, so an interrupted install never leaves a
  # half-filled libs/ that later looks complete.
  rm -rf "$libs".tmp.*
  tmp="$libs.tmp.$$"
  if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
    tail -n 40 "$tmp.mvn.log" >&2
    die "maven could not resolve the $what jars (full log: $tmp.mvn.log)"
  fi
  rm -f "$tmp.mvn.log"
  echo "$want" >"$tmp/.stamp"
  rm -rf "$libs"
  mv "$tmp" "$libs"
  log "resolved $what: $(find "$libs" -name '*.jar' | wc -l) jars in $(since "$t0")"
}
