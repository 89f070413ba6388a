#!/usr/bin/env bash
# Peak memory and time of `patch --out` and `verify` on the 120 MB llvmlite.dll (fetched by
# scripts/bench.sh, never committed), against the bound "file + SizeOfImage + 64 MiB": one working
# copy of the image, the data-reference sites streamed from the scan. The dump verified is the
# patched image `patch --out` wrote (every place matches).
# Usage: scripts/bench-patch.sh [DLL]
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
dll=${1:-$work/llvmlite.dll}
if [ ! -f "$dll" ]; then
  scripts/bench.sh >/dev/null   # fetches the DLL
fi
cargo build --release --no-default-features --quiet
bin=target/release/linkscope
out=$work/$(basename "$dll" .dll)-patched.bin
size_kib=$(( $(stat -L -c %s "$dll") / 1024 ))
image=$($bin inspect "$dll" --json --only headers | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next(f["value"] for h in d["headers"] for f in h.get("fields", []) if f.get("name") == "SizeOfImage"))')
image_kib=$(( image / 1024 ))
echo "file: $dll ($size_kib KiB), SizeOfImage $image_kib KiB"
report() {
  local name=$1; shift
  local line
  line=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null || true; } 2>&1 | tail -1)
  local secs=${line% *} peak=${line#* }
  echo "$name: $secs s, peak $peak KiB = file + SizeOfImage + $(( (peak - size_kib - image_kib) / 1024 )) MiB (bound: + 64 MiB)"
}
report "patch --out" $bin patch "$dll" --out "$out"
report "verify" $bin verify "$dll" --dump "$out"
$bin verify "$dll" --dump "$out" | tail -3
