#!/bin/sh
# Refresh tests/corpus/pefile.jsonl: what pefile (pinned below) sees in every PE file of the
# shared corpus. Makes its own virtual environment under a cache directory; the Rust test
# tests/pefile_agreement.rs reads the capture and needs no Python.
#   scripts/pefile-compare.sh [--full] [--out FILE] [--corpus DIR]
set -eu
PEFILE_VERSION=2024.8.26
here=$(cd "$(dirname "$0")" && pwd)
venv=${LINKSCOPE_PEFILE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/linkscope/pefile-$PEFILE_VERSION}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pefile==$PEFILE_VERSION"
fi
exec "$venv/bin/python" "$here/pefile-compare.py" "$@"
