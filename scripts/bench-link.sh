#!/usr/bin/env bash
# Benchmark of `linkscope link` against the linker it simulates, in the same run: N C++
# translation units (generated here, compiled by clang for x86_64-pc-windows-msvc, never
# committed) that share inline functions and templates — thousands of COMDAT copies — linked by
# lld-link (the named baseline, writing its image and map) and simulated by linkscope from the
# same command line. The simulation is then compared with lld-link's image and map: every input
# section's RVA and size must match. Prints the times, the ratio and the peak memory.
#
# `--big` links a bigger program instead: N units (default 1500) that also define class
# templates with virtual functions (vtable COMDATs), hold string literals (`??_C@` COMDATs,
# shared, unique, and ending one another: lld tail-merges them into one chunk), selectany
# data, and call into a 64-member archive (llvm-lib), linked with /opt:ref,icf.
# Usage: scripts/bench-link.sh [--big] [N]   (default 300 units, 1500 with --big)
set -euo pipefail
cd "$(dirname "$0")/.."
big=0
if [ "${1:-}" = "--big" ]; then
  big=1
  shift
fi
if [ $big = 1 ]; then
  n=${1:-1500}
  work=target/bench/link-big-$n
else
  n=${1:-300}
  work=target/bench/link-$n
fi
for t in clang lld-link hyperfine; do
  command -v $t >/dev/null || { echo "$t is needed (apt-get install clang lld hyperfine)" >&2; exit 1; }
done
[ $big = 0 ] || command -v llvm-lib >/dev/null || { echo "llvm-lib is needed (apt-get install llvm)" >&2; exit 1; }
cargo build --release --no-default-features --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/linkscope
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
mkdir -p "$work"
cd "$work"
cflags="--target=x86_64-pc-windows-msvc -O1 -ffunction-sections -fdata-sections -fno-exceptions"
compile() { # files…: compiled four at a time
  local k=0
  for f in "$@"; do
    clang $cflags -fno-rtti -c "$f" -o "${f%.cpp}.obj" &
    k=$((k + 1))
    if ((k % 4 == 0)); then wait; fi
  done
  wait
}
if [ $big = 0 ] && [ ! -f tu$((n - 1)).obj ]; then
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
    clang $cflags -c "tu$k.cpp" -o "tu$k.obj" &
    if (( (k + 1) % 4 == 0 )); then wait; fi
  done
  wait
fi
if [ $big = 1 ] && [ ! -f bench.lib ]; then
  python3 - "$n" <<'PY'
import sys
n = int(sys.argv[1])
h = ["#pragma once", "template <int N> struct T { static int f(int x) { return x * N + (x >> 3); } };"]
for i in range(150):
    h.append(f"inline int inl{i}(int x) {{ return T<{i}>::f(x) ^ {i * 7}; }}")
h.append("struct Base { virtual int v(int x) const = 0; virtual const char* name() const = 0; };")
h.append("template <int N> struct Impl : Base {")
h.append("  int v(int x) const override { return T<N>::f(x) + N; }")
h.append('  const char* name() const override { return N % 2 ? "implementation, odd" : "implementation, even"; }')
h.append("};")
h.append('inline const char* greeting(int i) { return i % 3 == 0 ? "hello from the common header" : i % 3 == 1 ? "from the common header" : "the common header"; }')
for j in range(64):
    h.append(f"int lib{j}(int x);")
h.append('extern "C" int start();')
open("common.h", "w").write("\n".join(h) + "\n")
for k in range(n):
    b = ['#include "common.h"']
    b.append(f"static Impl<{k % 97}> obj{k}a;")
    b.append(f"static Impl<{(k * 7) % 97 + 100}> obj{k}b;")
    b.append(f"Base* ptrs{k}[] = {{&obj{k}a, &obj{k}b}};")
    b.append(f'const char* names{k}[] = {{"unit {k} text", "text", "shared by every unit", "unit {k} of many", greeting({k})}};')
    calls = " + ".join(f"inl{(k * 13 + j) % 150}(x)" for j in range(12))
    b.append(f"int unit{k}(int x) {{ return {calls} + ptrs{k}[x & 1]->v(x) + ptrs{k}[x & 1]->name()[0] + names{k}[x & 3][1] + lib{k % 64}(x); }}")
    b.append("__declspec(selectany) int shared_data = 5;")
    b.append(f'__declspec(selectany) const char* shared_name = "selectany literal";')
    b.append(f"static int unused{k}(int x) {{ return x + {k}; }}")
    if k == 0:
        b.extend(f"int unit{j}(int);" for j in range(1, n))
        b.append('extern "C" int start() { int s = 0; ' + " ".join(f"s += unit{j}(s);" for j in range(n)) + " return s + shared_data + shared_name[0]; }")
    open(f"tu{k}.cpp", "w").write("\n".join(b) + "\n")
for j in range(64):
    b = ['#include "common.h"']
    b.append(f'static const char* lib_names{j}[] = {{"library member {j}", "member {j}", "hello from the common header"}};')
    b.append(f"int lib{j}(int x) {{ return inl{j}(x) + lib_names{j}[x % 3][0] + greeting(x)[2]; }}")
    b.append(f"int lib{j}_unused(int x) {{ return inl{j + 1}(x) * 3; }}")
    open(f"m{j}.cpp", "w").write("\n".join(b) + "\n")
PY
  compile $(for ((k = 0; k < n; k++)); do echo tu$k.cpp; done) $(for ((j = 0; j < 64; j++)); do echo m$j.cpp; done)
  llvm-lib /out:bench.lib $(for ((j = 0; j < 64; j++)); do echo m$j.obj; done)
fi
objs=$(for ((k = 0; k < n; k++)); do echo tu$k.obj; done | tr '\n' ' ')
args="/nodefaultlib /entry:start /subsystem:console /brepro"
if [ $big = 1 ]; then
  objs="$objs bench.lib"
  args="$args /opt:ref,icf"
fi
lld-link $args /out:bench.exe /lldmap:bench.lldmap $objs
echo "inputs: $n objects, $(du -cb tu*.obj | tail -1 | cut -f1) bytes$([ $big = 1 ] && echo ", bench.lib $(stat -L -c %s bench.lib) bytes"); image $(stat -L -c %s bench.exe) bytes"
"$bin" link --flavor lld-link --compare bench.exe --map bench.lldmap -- $args $objs | grep -E "^Compared|^lld-link link|^  placement|^  section" || true
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
# Paired runs: the two commands one after the other (alternating which goes first), 20 times;
# the median of the per-pair ratios is robust to the machine's speed drifting during the run.
python3 - "$bin" "$args" "$objs" <<'PY'
import statistics, subprocess, sys, time
bin, args, objs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
lld = ["lld-link", *args, "/out:bench.exe", "/lldmap:bench.lldmap", *objs]
ls = [bin, "link", "--flavor", "lld-link", "--json", "--", *args, *objs]
def run(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
ratios, tl, ts = [], [], []
for i in range(20):
    if i % 2:
        a, b = run(ls), run(lld)
    else:
        b, a = run(lld), run(ls)
    ratios.append(a / b)
    tl.append(b)
    ts.append(a)
print(f"paired (20 pairs): linkscope {statistics.median(ts)*1000:.0f} ms, lld-link {statistics.median(tl)*1000:.0f} ms;"
      f" median ratio linkscope/lld-link {statistics.median(ratios):.2f}x (lld-link/linkscope {1/statistics.median(ratios):.2f})")
PY
