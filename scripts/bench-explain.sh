#!/usr/bin/env bash
# Time and peak memory of `verify --explain` on the 120 MB llvmlite.dll (fetched by
# scripts/bench.sh, never committed) against a memory image of it (`patch --out`: the image as
# the loader and the scheme leave it), with two baselines measured in the same run: reading the
# file and the memory image (`cat`) and `verify` without `--explain`. The bound: under 1.5 s and
# at most file + SizeOfImage + 64 MiB. Then the same with the image loaded 0x100000000 away from
# its preferred base (every base-relocated field differs, each one attributed).
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
report "cat file + memory (baseline)" cat "$dll" "$mem"
report "verify (baseline)" $bin verify "$dll" --dump "$mem"
report "verify --explain" $bin verify "$dll" --dump "$mem" --explain
report "verify --explain --json" $bin verify "$dll" --dump "$mem" --explain --json
$bin verify "$dll" --dump "$mem" --explain | sed -n '/^explain:/,$p' | head -20
moved=$work/$(basename "$dll" .dll)-memory-moved.bin
at=$($bin inspect "$dll" --json --only headers | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(hex(d["image_base"] + 0x100000000))')
$bin patch "$dll" --image-base "$at" --out "$moved" > /dev/null
report "verify, moved (baseline)" $bin verify "$dll" --image-base "$at" --dump "$moved"
report "verify --explain, moved" $bin verify "$dll" --image-base "$at" --dump "$moved" --explain
report "verify --explain --json, moved" $bin verify "$dll" --image-base "$at" --dump "$moved" --explain --json
$bin verify "$dll" --image-base "$at" --dump "$moved" --explain | sed -n '/^explain:/,$p' | head -20
