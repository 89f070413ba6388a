#!/usr/bin/env bash
# Benchmark of `refs --json` with and without the image's PDB, on a large MSVC-style image built
# here (no download): a generated C++ program (FILES files of FUNCS functions, each loading and
# storing a dozen globals and calling its neighbours) compiled by clang for
# x86_64-pc-windows-msvc with -g -gcodeview and linked by lld-link /debug. The PDB names every
# function and variable (publics, procedures, statics), so `refs`' `symbol` comes from it.
# The image is linked with /pdbaltpath:bench.pdb and copied to a directory without the PDB, so
# the same image is measured once with its PDB found beside it and once with none.
# Prints the image's size, the sites, the PDB's counts, and the time of each (hyperfine) with
# the ratio against the bound (1.5x).
# Usage: scripts/bench-pdb.sh [FILES] [FUNCS]   (default 100 x 400)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-100}
funcs=${2:-400}
work=target/bench/pdb
mkdir -p "$work/src" "$work/with" "$work/without"
for t in clang++ lld-link hyperfine python3; do
  command -v $t >/dev/null || { echo "$t is needed" >&2; exit 1; }
done
python3 - "$work/src" "$files" "$funcs" <<'PY'
import sys, os
out, files, funcs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for k in range(files):
    p = os.path.join(out, f"m{k}.cpp")
    if os.path.exists(p):
        continue
    L = []
    L.append(f"namespace n{k} {{")
    L.append("static int s_tab[256];")
    L.append("int g_tab[1024];")
    L.append("const char *g_names[16] = {" + ",".join(f'"n{k}_{j}"' for j in range(16)) + "};")
    L.append("struct Shape { virtual int area() const = 0; virtual ~Shape() {} int w = 1, h = 2; };")
    L.append("struct Rect : Shape { int area() const override { return w * h + g_tab[w & 1023]; } };")
    L.append("struct Tri : Shape { int area() const override { return w * h / 2 + s_tab[h & 255]; } };")
    for i in range(funcs):
        body = []
        for j in range(12):
            a = (i * 37 + j * 11) % 1024
            b = (i * 13 + j * 7) % 256
            body.append(f"  s += g_tab[{a}] ^ s_tab[{b}]; g_tab[{(a + 5) % 1024}] = s;")
        call = f"  s += f{i - 1}(s & 7);" if i else ""
        kw = "static " if i % 4 == 3 else ""
        L.append(f"{kw}int f{i}(int x) {{\n  int s = x + (int)g_names[{i % 16}][0];\n" + "\n".join(body) + f"\n{call}\n  return s;\n}}")
    L.append("int run(int x) { Rect r; Tri t; Shape *v[2] = {&r, &t}; int s = v[x & 1]->area();")
    L.append("".join(f" s += f{i}(x);" for i in range(3, funcs, 4)))
    L.append(f"  return s + f{funcs - 1}(x); }}")
    L.append("}")
    with open(p, "w") as f:
        f.write("\n".join(L) + "\n")
with open(os.path.join(out, "main.cpp"), "w") as f:
    # No C runtime: what the virtual destructors and pure virtuals need, defined here.
    f.write("void operator delete(void *) noexcept {}\nvoid operator delete(void *, unsigned long long) noexcept {}\n")
    f.write('extern "C" int _purecall() { return 0; }\n')
    f.write("".join(f"namespace n{k} {{ int run(int); }}\n" for k in range(files)))
    f.write('extern "C" int entry() { int s = 0;\n' + "".join(f" s += n{k}::run(s);\n" for k in range(files)) + " return s; }\n")
PY
objs=()
for src in "$work"/src/*.cpp; do
  obj=${src%.cpp}.obj
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
    clang++ --target=x86_64-pc-windows-msvc -g -gcodeview -O1 -fno-exceptions -fno-rtti -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
img=$work/with/bench.exe
if [ ! -f "$img" ]; then
  lld-link /debug /pdbaltpath:bench.pdb /entry:entry /subsystem:console /nodefaultlib \
    /out:"$img" /pdb:"$work/with/bench.pdb" "${objs[@]}"
fi
cp "$img" "$work/without/bench.exe"
bin=${LINKSCOPE_BIN:-target/release/linkscope}
if [ -z "${LINKSCOPE_BIN:-}" ]; then
  cargo build --release --no-default-features --quiet
fi
echo "image: $(stat -c %s "$img") bytes, PDB: $(stat -c %s "$work/with/bench.pdb") bytes ($files files x $funcs functions)"
# Run from the work directory's parent so the relative /pdbaltpath: names no file there.
cd "$work"
bin=$(cd - >/dev/null && realpath "$bin")
"$bin" refs --summary --json with/bench.exe | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("sites", s["sites"], "instructions", s["instructions"])'
"$bin" inspect with/bench.exe --only pdb --json | python3 -c 'import json,sys; v=json.load(sys.stdin); print("PDB publics", len(v["publics"]), "procedures", len(v["procedures"]), "matches", v["pdb"]["matches"])'
"$bin" refs --json with/bench.exe | python3 -c 'import json,sys; v=json.load(sys.stdin); n=[s for s in v["refs"] if s.get("symbol")]; print("sites named by a symbol", len(n), "of", len(v["refs"]))' || true
hyperfine --warmup 1 --runs 5 --export-json refs-pdb.json \
  -n "refs --json, no PDB" "$bin refs --json without/bench.exe > /dev/null" \
  -n "refs --json, with its PDB" "$bin refs --json with/bench.exe > /dev/null"
for d in without with; do
  peak=$( { /usr/bin/time -f "%M" "$bin" refs --json $d/bench.exe > /dev/null; } 2>&1 | tail -1)
  echo "peak RSS of refs --json ($d PDB): $peak KiB"
done
python3 - <<'PY'
import json
r = {x["command"]: x["median"] for x in json.load(open("refs-pdb.json"))["results"]}
a, b = r["refs --json, no PDB"], r["refs --json, with its PDB"]
print(f"refs --json: {a*1000:.0f} ms without the PDB, {b*1000:.0f} ms with it: {b/a:.2f}x (bound 1.5x)")
PY
