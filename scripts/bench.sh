#!/usr/bin/env bash
# Benchmark: `linkscope inspect --json` against `llvm-readobj --coff-basereloc --coff-imports` on
# the 120 MB llvmlite.dll from PyPI's llvmlite 0.50.0 win_amd64 wheel, measured side by side with
# hyperfine in the same run. The wheel is fetched (never committed) into target/bench/.
# Usage: scripts/bench.sh [DLL]   (default: the llvmlite DLL, downloaded on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
mkdir -p "$work"
dll=${1:-}
if [ -z "$dll" ]; then
  dll=$work/llvmlite.dll
  if [ ! -f "$dll" ]; then
    pip download --only-binary=:all: --platform win_amd64 --python-version 3.12 --no-deps \
      llvmlite==0.50.0 -d "$work" >/dev/null
    python3 - "$work" <<'PY'
import sys, zipfile, glob, os
work = sys.argv[1]
whl = glob.glob(os.path.join(work, "llvmlite-0.50.0-*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("llvmlite.dll"))
    tmp = os.path.join(work, "llvmlite.dll.part")
    with z.open(name) as src, open(tmp, "wb") as dst:
        dst.write(src.read())
    os.replace(tmp, os.path.join(work, "llvmlite.dll"))
PY
  fi
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --no-default-features --quiet
bin=target/release/linkscope
echo "file: $dll ($(stat -L -c %s "$dll") bytes)"
echo "base relocations: $($bin inspect "$dll" --json --only basereloc | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["base_relocations"]))')"
echo "imports: $($bin inspect "$dll" --json --only imports | python3 -c 'import json,sys; print(sum(len(m["entries"]) for m in json.load(sys.stdin)["imports"]))')"
hyperfine --warmup 2 --runs 10 --export-json "$work/bench.json" \
  -n "linkscope inspect --json" "$bin inspect '$dll' --json > /dev/null" \
  -n "llvm-readobj --coff-basereloc --coff-imports" "llvm-readobj --coff-basereloc --coff-imports '$dll' > /dev/null"
python3 - "$work/bench.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, base = r[0]["mean"], r[1]["mean"]
print(f"linkscope {ours*1000:.0f} ms, llvm-readobj {base*1000:.0f} ms: linkscope takes {ours/base:.2f}x the time ({base/ours:.1f}x faster)")
PY
