#!/usr/bin/env bash
# `make deps`: uv from PyPI when missing, then the locked workspace into .venv, each with a line
# when it starts and one when it ends (the first sync downloads for a minute or more).
#
# Environment: PYTHON (default python3), UV (the uv command; default `uv`, or `$PYTHON -m uv`).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${PYTHON:-python3}"
if ! command -v uv >/dev/null 2>&1 && ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
  timed "installing uv from PyPI" "$PYTHON" -m pip install --quiet uv
fi
UV="${UV:-$(command -v uv || echo "$PYTHON -m uv")}"
cd "$ALIGNED_REPO_ROOT"
# shellcheck disable=SC2086 # UV may be "python3 -m uv"
timed "uv sync: the locked workspace (uv.lock) into .venv" $UV sync --frozen --all-packages --quiet
