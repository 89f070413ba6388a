#!/usr/bin/env bash
# Every CLI output on every fixture and bundled sample, one file per command, into OUT_DIR: run it
# before and after a refactor and `diff -r` the two folders (the outputs must not change).
#   scripts/cli-snapshot.sh OUT_DIR [BINARY]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/cli-snapshot.sh OUT_DIR [BINARY]}
bin=${2:-target/debug/linkscope}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# run NAME ARGS…: stdout, stderr and the exit code of one command.
run() {
  local name=$1
  shift
  "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err"
  echo $? >"$out/$name.rc"
}

# Binaries: every file under the fixtures and samples that is not a capture, a source or a script.
mapfile -t files < <(find tests/fixtures assets/samples -type f -not -path '*/src/*' |
  grep -vE '\.(readobj|readelf|objdump[^/]*|txt|md|sh|py|c|cpp|asm|s|S|cmd|exit|stderr|stdout|lldmap|linkmap|gnumap|map|gz|tsv|out|err|rc|sha256|yaml|def|d|h|json|lldlink-args|nm|lst)$' | sort)
for f in "${files[@]}"; do
  k=${f//\//_}
  run "$k.inspect" inspect "$f"
  run "$k.inspect-json" inspect --json "$f"
  run "$k.refs" refs "$f"
  run "$k.refs-json" refs --json "$f"
  run "$k.disasm" disasm "$f"
  run "$k.disasm-json" disasm --json "$f"
done

# Patch and verify: every loader case, each module with the others as its DLLs.
for d in tests/fixtures/patch/*/ tests/fixtures/patch/explicit/*/; do
  [ -f "$d/modules.tsv" ] || continue
  mapfile -t mods < <(cut -f1 "$d/modules.tsv")
  for m in "${mods[@]}"; do
    dlls=()
    for o in "${mods[@]}"; do [ "$o" != "$m" ] && dlls+=(--dll "$d/$o"); done
    k=$(echo "$d$m" | tr '/' '_')
    run "$k.patch" patch "$d/$m" "${dlls[@]}"
    run "$k.patch-json" patch --json "$d/$m" "${dlls[@]}"
    dump=$(awk -v m="$m" '$1 == m { print $4 }' "$d/modules.tsv")
    if [ -n "$dump" ] && [ -f "$d/$dump" ]; then
      run "$k.verify-json" verify --json "$d/$m" --dump "$d/$dump" "${dlls[@]}"
      run "$k.diff-dump-json" diff --json "$d/$m" --dump "$d/$dump"
    fi
  done
done

# Diffs between neighbouring fixtures.
run diff-small diff --json tests/fixtures/mingw64/autoimport-small.exe tests/fixtures/mingw64/autoimport.exe
run diff-text diff tests/fixtures/mingw64/autoimport-small.exe tests/fixtures/mingw64/autoimport.exe

# Links: every recorded command line, simulated in its folder.
find tests/fixtures/link -name '*.cmd' | sort | while read -r c; do
  dir=$(dirname "$c")
  k=$(echo "${c%.cmd}" | tr '/' '_')
  first=$(grep -v '^$' "$c" | head -1)
  case $first in
    lld-link) flavor=lld-link ;;
    ld.lld) flavor=lld-mingw ;;
    *) flavor=gnu-ld ;;
  esac
  mapfile -t args < <(grep -v '^$' "$c" | tail -n +2)
  (cd "$dir" && "$bin" link --flavor "$flavor" --json -- "${args[@]}" >"$out/$k.link-json" 2>&1
    echo $? >"$out/$k.link-rc"
    "$bin" link --flavor "$flavor" -- "${args[@]}" >"$out/$k.link" 2>&1
    name=$(basename "${c%.cmd}")
    for map in "$name.lldmap" "$name.gnumap"; do
      if [ -f "$name.exe" ] && [ -f "$map" ]; then
        "$bin" link --flavor "$flavor" --compare "$name.exe" --map "$map" -- "${args[@]}" >"$out/$k.compare" 2>&1
        echo $? >>"$out/$k.compare"
      fi
    done)
done
echo "$(find "$out" -type f | wc -l) files in $out"
