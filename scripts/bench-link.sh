#!/usr/bin/env bash
# Benchmark of `linkscope link` against the linker it simulates, in the same run: N C++
# translation units (generated here, compiled by clang for x86_64-pc-windows-msvc, never
# committed) that share inline functions and templates — thousands of COMDAT copies — linked by
# lld-link (the named baseline, writing its image and map) and simulated by linkscope from the
# same command line. The simulation is then compared with lld-link's image and map: every input
# section's RVA and size must match. Prints the times, the ratio and the peak memory.
# Usage: scripts/bench-link.sh [N]   (default 300 units)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
work=target/bench/link-$n
for t in clang lld-link hyperfine; do
  command -v $t >/dev/null || { echo "$t is needed (apt-get install clang lld hyperfine)" >&2; exit 1; }
done
cargo build --release --no-default-features --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/linkscope
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
mkdir -p "$work"
cd "$work"
if [ ! -f tu$((n - 1)).obj ]; then
  python3 - "$n" <<'PY'
import sys
n = int(sys.argv[1])
h = ["#pragma once", "template <int N> struct T { static int f(int x) { return x * N + (x >> 3); } };"]
for i in range(150):
    h.append(f"inline int inl{i}(int x) {{ return T<{i}>::f(x) ^ {i * 7}; }}")
h.append('extern "C" int start();')
open("common.h", "w").write("\n".join(h) + "\n")
for k in range(n):
    body = [f'#include "common.h"']
    calls = " + ".join(f"inl{(k * 13 + j) % 150}(x)" for j in range(40))
    body.append(f"int unit{k}(int x) {{ return {calls}; }}")
    body.append(f"__declspec(selectany) int shared_data = 5;")
    body.append(f"static int unused{k}(int x) {{ return x + {k}; }}")
    if k == 0:
        body.extend(f"int unit{j}(int);" for j in range(1, n))
        body.append('extern "C" int start() { int s = 0; ' + " ".join(f"s += unit{j}(s);" for j in range(n)) + " return s + shared_data; }")
    open(f"tu{k}.cpp", "w").write("\n".join(body) + "\n")
PY
  for ((k = 0; k < n; k++)); do
    clang --target=x86_64-pc-windows-msvc -O1 -ffunction-sections -fdata-sections -fno-exceptions -c "tu$k.cpp" -o "tu$k.obj" &
    if (( (k + 1) % 4 == 0 )); then wait; fi
  done
  wait
fi
objs=$(for ((k = 0; k < n; k++)); do echo tu$k.obj; done | tr '\n' ' ')
args="/nodefaultlib /entry:start /subsystem:console /brepro"
lld-link $args /out:bench.exe /lldmap:bench.lldmap $objs
echo "inputs: $n objects, $(du -cb tu*.obj | tail -1 | cut -f1) bytes; image $(stat -c %s bench.exe) bytes"
"$bin" link --flavor lld-link --compare bench.exe --map bench.lldmap -- $args $objs | grep -E "^Compared|^lld-link link" || true
hyperfine --warmup 1 --runs 10 --export-json link.json \
  -n "lld-link (links, writes image and map)" "lld-link $args /out:bench.exe /lldmap:bench.lldmap $objs" \
  -n "linkscope link --json" "$bin link --flavor lld-link --json -- $args $objs > /dev/null"
/usr/bin/time -f "peak RSS of linkscope link: %M KiB" "$bin" link --flavor lld-link --json -- $args $objs > /dev/null
/usr/bin/time -f "peak RSS of lld-link: %M KiB" lld-link $args /out:bench.exe $objs
python3 - <<'PY'
import json
r = {x["command"]: x["median"] for x in json.load(open("link.json"))["results"]}
a, b = "linkscope link --json", "lld-link (links, writes image and map)"
print(f"{a}: {r[a]*1000:.0f} ms, {r[a]/r[b]:.2f}x {b} ({r[b]*1000:.0f} ms)")
PY
