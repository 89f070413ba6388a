#!/usr/bin/env bash
# Time and peak memory of `verify --explain` on the 120 MB llvmlite.dll (fetched by
# scripts/bench.sh, never committed) against a memory image of it (`patch --out`: the image as
# the loader and the scheme leave it), with two baselines measured in the same run: `cmp` of the
# file with the memory image (reading both) and `verify` without `--explain`. The bound:
# under 1.5 s and at most file + SizeOfImage + 64 MiB.
# Usage: scripts/bench-explain.sh [DLL]
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
dll=${1:-$work/llvmlite.dll}
if [ ! -f "$dll" ]; then
  scripts/bench.sh >/dev/null   # fetches the DLL
fi
cargo build --release --no-default-features --quiet
bin=target/release/linkscope
mkdir -p "$work"
mem=$work/$(basename "$dll" .dll)-memory.bin
$bin patch "$dll" --out "$mem" > /dev/null
size_kib=$(( $(stat -L -c %s "$dll") / 1024 ))
image_kib=$(( $(stat -L -c %s "$mem") / 1024 ))
echo "file: $dll ($size_kib KiB), SizeOfImage $image_kib KiB"
report() {
  local name=$1; shift
  local line
  line=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null || true; } 2>&1 | tail -1)
  local secs=${line% *} peak=${line#* }
  echo "$name: $secs s, peak $peak KiB = file + SizeOfImage + $(( (peak - size_kib - image_kib) / 1024 )) MiB (bound: 1.5 s, + 64 MiB)"
}
report "cmp (baseline)" cmp -s "$dll" "$mem"
report "verify (baseline)" $bin verify "$dll" --dump "$mem"
report "verify --explain" $bin verify "$dll" --dump "$mem" --explain
report "verify --explain --json" $bin verify "$dll" --dump "$mem" --explain --json
$bin verify "$dll" --dump "$mem" --explain | sed -n '/^explain:/,$p' | head -20
