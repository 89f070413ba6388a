#!/usr/bin/env bash
# Benchmark of the data-reference scan on the 120 MB llvmlite.dll (PyPI's llvmlite 0.50.0
# win_amd64 wheel, fetched by scripts/bench.sh, never committed), against two baselines in the
# same run: `llvm-objdump -d` and a bare iced-x86 decode loop over the same code bytes
# (examples/decode_bench.rs, which also opens and parses the file). Prints the ratios and the
# peak memory of `refs --summary` (GNU time); then the full outputs (`refs --json`, the `refs`
# table) against `refs --summary` in the same run, with their peak memory against the bound
# file + 128 MiB.
# Usage: scripts/bench-refs.sh [DLL]
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
dll=${1:-$work/llvmlite.dll}
if [ ! -f "$dll" ]; then
  scripts/bench.sh >/dev/null   # fetches the DLL
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --no-default-features --quiet
cargo build --release --no-default-features --quiet --example decode_bench
bin=target/release/linkscope
echo "file: $dll ($(stat -L -c %s "$dll") bytes)"
$bin refs --summary --json "$dll" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("instructions", s["instructions"], "rip_relative_operands", s["rip_relative_operands"], "sites", s["sites"])'
echo "llvm-objdump -d (%rip) operands: $(llvm-objdump -d --no-show-raw-insn "$dll" | grep -c '(%rip)')"
hyperfine --warmup 1 --runs 3 --export-json "$work/refs-objdump.json" \
  -n "linkscope refs --summary --json" "$bin refs --summary --json '$dll' > /dev/null" \
  -n "llvm-objdump -d" "llvm-objdump -d --no-show-raw-insn '$dll' > /dev/null"
hyperfine --warmup 2 --runs 20 --export-json "$work/refs-decode.json" \
  -n "linkscope refs --summary --json" "$bin refs --summary --json '$dll' > /dev/null" \
  -n "linkscope refs --summary --json --threads 2" "$bin refs --summary --json --threads 2 '$dll' > /dev/null" \
  -n "bare decode loop" "target/release/examples/decode_bench '$dll' > /dev/null"
/usr/bin/time -f "peak RSS of refs --summary: %M KiB" $bin refs --summary --json "$dll" > /dev/null
python3 - "$work" "$(stat -L -c %s "$dll")" <<'PY'
import json, sys
w = sys.argv[1]
o = json.load(open(f"{w}/refs-objdump.json"))["results"]
d = json.load(open(f"{w}/refs-decode.json"))["results"]
med = lambda r: r["median"]
print(f"refs vs llvm-objdump -d: {med(o[1]) / med(o[0]):.0f}x faster ({med(o[0])*1000:.0f} ms vs {med(o[1])*1000:.0f} ms)")
print(f"refs vs bare decode loop: {med(d[0]) / med(d[2]):.2f}x its time ({med(d[0])*1000:.0f} ms vs {med(d[2])*1000:.0f} ms)")
print(f"--threads 2 vs 1: {med(d[1]) / med(d[0]):.2f}x the time")
PY
# The full outputs: every site, streamed from the scan.
hyperfine --warmup 1 --runs 5 --export-json "$work/refs-full.json" \
  -n "refs --summary --json" "$bin refs --summary --json '$dll' > /dev/null" \
  -n "refs --json" "$bin refs --json '$dll' > /dev/null" \
  -n "refs (text)" "$bin refs '$dll' > /dev/null"
size_kib=$(( $(stat -L -c %s "$dll") / 1024 ))
for args in "--json" ""; do
  peak=$( { /usr/bin/time -f "%M" $bin refs $args "$dll" > /dev/null; } 2>&1 | tail -1)
  echo "peak RSS of refs ${args:-(text)}: $peak KiB = file + $(( (peak - size_kib) / 1024 )) MiB (bound: file + 128 MiB)"
done
python3 - "$work" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(f"{sys.argv[1]}/refs-full.json"))["results"]}
s = r["refs --summary --json"]
for k in ("refs --json", "refs (text)"):
    print(f"{k}: {r[k]*1000:.0f} ms, {r[k]/s:.2f}x refs --summary ({s*1000:.0f} ms; target 3x)")
PY
