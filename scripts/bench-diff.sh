#!/usr/bin/env bash
# Benchmark of `linkscope diff` on the 120 MB llvmlite.dll (fetched by scripts/bench.sh, never
# committed): against itself, and against a copy with 100 scattered one-byte edits (made here,
# deterministically), with `cmp` on the same pair as the named baseline in the same run. Prints
# the times, the ratios and the peak memory (GNU time); then the peak memory of `diff --json`
# against a copy with 100,000 edits, against the bound "the two inputs + 64 MiB".
# Usage: scripts/bench-diff.sh [DLL]
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
dll=${1:-$work/llvmlite.dll}
if [ ! -f "$dll" ]; then
  scripts/bench.sh >/dev/null   # fetches the DLL
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --no-default-features --quiet
bin=target/release/linkscope
# A copy of the DLL with N scattered one-byte edits (deterministic): edited_copy N OUT.
edited_copy() {
  python3 - "$dll" "$2" "$1" <<'PY'
import random, sys
d = bytearray(open(sys.argv[1], "rb").read())
r = random.Random(7)
for _ in range(int(sys.argv[3])):
    d[r.randrange(0x1000, len(d))] ^= 0x5A
open(sys.argv[2], "wb").write(d)
PY
}
edited=$work/$(basename "$dll" .dll)-edited.dll
edited_copy 100 "$edited"
echo "file: $dll ($(stat -L -c %s "$dll") bytes); edited copy: $edited"
$bin diff --json "$dll" "$edited" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("changes", s["changes"], "bytes_changed", s["bytes_changed"], "by_kind", s["by_kind"])' || true
hyperfine --warmup 1 --runs 10 -i --export-json "$work/diff.json" \
  -n "linkscope diff (itself)" "$bin diff --json '$dll' '$dll' > /dev/null" \
  -n "linkscope diff (100 edits)" "$bin diff --json '$dll' '$edited' > /dev/null" \
  -n "cmp (itself)" "cmp '$dll' '$dll'" \
  -n "cmp -l (100 edits)" "cmp -l '$dll' '$edited' > /dev/null"
for pair in "$dll $dll" "$dll $edited"; do
  /usr/bin/time -f "peak RSS of diff: %M KiB" $bin diff --json $pair > /dev/null || true
done
python3 - "$work" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(f"{sys.argv[1]}/diff.json"))["results"]}
for a, b in [("linkscope diff (itself)", "cmp (itself)"), ("linkscope diff (100 edits)", "cmp -l (100 edits)")]:
    print(f"{a}: {r[a]*1000:.0f} ms, {r[a]/r[b]:.1f}x {b} ({r[b]*1000:.0f} ms)")
PY
# 100,000 edits: each change is written as it is found, none kept.
many=$work/$(basename "$dll" .dll)-100k.dll
edited_copy 100000 "$many"
$bin diff --json "$dll" "$many" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("100,000 edits: changes", s["changes"], "listed", s["listed"])' || true
inputs_kib=$(( ($(stat -L -c %s "$dll") + $(stat -L -c %s "$many")) / 1024 ))
peak=$( { /usr/bin/time -f "%M" $bin diff --json "$dll" "$many" > /dev/null || true; } 2>&1 | tail -1)
echo "peak RSS of diff --json (100,000 edits): $peak KiB = inputs + $(( (peak - inputs_kib) / 1024 )) MiB (bound: inputs + 64 MiB)"
