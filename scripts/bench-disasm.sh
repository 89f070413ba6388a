#!/usr/bin/env bash
# Benchmark of the whole listing, `linkscope disasm`, of the 120 MB llvmlite.dll (PyPI's llvmlite
# 0.50.0 win_amd64 wheel, fetched by scripts/bench.sh, never committed) against `llvm-objdump -d`
# in the same run (both print the bytes and the instruction, one line per instruction; the line
# counts are printed). Text with the default threads (one per core) and with --threads 1, and
# --json; the peak memory of each (GNU time) against the file's size. Prints the ratios.
# Usage: scripts/bench-disasm.sh [DLL]     (honours CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
mkdir -p "$work"
dll=${1:-$work/llvmlite.dll}
if [ ! -f "$dll" ]; then
  scripts/bench.sh >/dev/null   # fetches the DLL
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --no-default-features --quiet
bin=${CARGO_TARGET_DIR:-target}/release/linkscope
size=$(stat -L -c %s "$dll")
echo "file: $dll ($size bytes), $(nproc) cores"
ours=$($bin disasm "$dll" | grep -cE '^ *[0-9a-f]+:  ')
theirs=$(llvm-objdump -d "$dll" | grep -cE '^ *[0-9a-f]+: ')
echo "instruction lines: linkscope $ours, llvm-objdump -d $theirs"
hyperfine --warmup 1 --runs 3 --export-json "$work/disasm.json" \
  -n "llvm-objdump -d" "llvm-objdump -d '$dll' > /dev/null" \
  -n "linkscope disasm" "$bin disasm '$dll' > /dev/null" \
  -n "linkscope disasm --threads 1" "$bin disasm --threads 1 '$dll' > /dev/null" \
  -n "linkscope disasm --json" "$bin disasm --json '$dll' > /dev/null"
# Paired runs (llvm-objdump, then linkscope, five times): the median of the ratios, which a load
# drifting between the hyperfine batches above does not skew.
python3 - "$bin" "$dll" > "$work/disasm-paired.txt" <<'PY'
import statistics, subprocess, sys, time
bin, dll = sys.argv[1:3]
def run(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
ratios = []
for _ in range(5):
    o = run(["llvm-objdump", "-d", dll])
    l = run([bin, "disasm", dll])
    ratios.append(o / l)
print(f"paired runs: linkscope disasm {statistics.median(ratios):.1f}x faster than llvm-objdump -d "
      f"(median of 5; {min(ratios):.1f}x to {max(ratios):.1f}x)")
PY
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
r_obj=$(rss llvm-objdump -d "$dll")
r_txt=$(rss "$bin" disasm "$dll")
r_one=$(rss "$bin" disasm --threads 1 "$dll")
r_json=$(rss "$bin" disasm --json "$dll")
python3 - "$work/disasm.json" "$size" "$r_obj" "$r_txt" "$r_one" "$r_json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]) / 2**20
obj, txt, one, js = (int(v) / 1024 for v in sys.argv[3:7])
base = r["llvm-objdump -d"]
for name, mib in [("linkscope disasm", txt), ("linkscope disasm --threads 1", one), ("linkscope disasm --json", js)]:
    t = r[name]
    print(f"{name}: {t:.2f} s, {base / t:.1f}x faster than llvm-objdump -d ({base:.2f} s); "
          f"peak {mib:.0f} MiB = file + {mib - size:.0f} MiB (llvm-objdump {obj:.0f} MiB)")
PY
cat "$work/disasm-paired.txt"
