#!/usr/bin/env bash
# `make browser-install`: what the browser tests (tests/acceptance/browser) drive, before pytest
# starts, so no test's timeout pays for a download:
#   - Debian's `chromium` at /usr/bin/chromium, from apt when missing (as root, or with sudo -n);
#     Playwright (a dev dependency from PyPI, in .venv) drives it, so Playwright downloads no browser;
#   - axe-core, pinned, from npm into a cache (never a CDN): the tests run its axe.min.js in the page.
# Either may be impossible here (no root, no npm): then it says so and exits 0; the browser tests
# skip with that reason, and every other test runs.
#
# Environment: ALIGNED_CHROMIUM (default /usr/bin/chromium), ALIGNED_AXE_CACHE (default
# <repo>/.local/cache/axe-core).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AXE_VERSION=4.11.0 # tests/acceptance/browser/conftest.py reads axe-core-$AXE_VERSION/axe.min.js
CHROMIUM="${ALIGNED_CHROMIUM:-/usr/bin/chromium}"
AXE_CACHE="${ALIGNED_AXE_CACHE:-$ALIGNED_REPO_ROOT/.local/cache/axe-core}"

install_chromium() {
  [[ -x "$CHROMIUM" ]] && return 0
  local sudo=()
  if ! is_root; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      log "chromium is missing and installing it needs root (apt-get install chromium): browser tests will skip"
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "chromium is missing and there is no apt-get here: browser tests will skip"
    return 0
  fi
  timed "installing Debian's chromium (apt)" bash -c \
    "${sudo[*]} apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo[*]} apt-get install -y -qq --no-install-recommends chromium >/dev/null" ||
    log "apt could not install chromium: browser tests will skip"
}

install_axe() {
  local dir="$AXE_CACHE/axe-core-$AXE_VERSION"
  [[ -s "$dir/axe.min.js" ]] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    log "npm is missing, so axe-core is not: browser tests will skip"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d)"
  # npm checks the tarball against the registry's integrity hash.
  if timed "fetching axe-core $AXE_VERSION from npm" npm pack --silent --pack-destination "$tmp" "axe-core@$AXE_VERSION" >/dev/null; then
    mkdir -p "$dir"
    tar -xzf "$tmp/axe-core-$AXE_VERSION.tgz" -C "$tmp" package/axe.min.js package/LICENSE
    mv "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dir/"
  else
    log "npm could not fetch axe-core: browser tests will skip"
  fi
  rm -rf "$tmp"
}

install_chromium
install_axe
