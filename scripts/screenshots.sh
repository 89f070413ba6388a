#!/bin/sh
# Write screenshots/*.png of the main views of the desktop app, from the bundled samples, by
# running the real app under Xvfb with `--screenshot` (see src/gui/screenshot.rs).
#
#   scripts/screenshots.sh            # builds the release binary first
#   LINKSCOPE_BIN=target/debug/linkscope scripts/screenshots.sh
#   ONLY="hex verify-live" scripts/screenshots.sh   # only these pictures
#
# Needs: xvfb-run (packages xvfb xauth libgl1-mesa-dri libegl-mesa0 libxkbcommon-x11-0 libxcursor1
# libxrandr2 libxi6).
set -eu
cd "$(dirname "$0")/.."
BIN=${LINKSCOPE_BIN:-target/release/linkscope}
if [ -z "${LINKSCOPE_BIN:-}" ]; then
    cargo build --release --quiet
fi
OUT=${OUT:-screenshots}
mkdir -p "$OUT"
XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
chmod 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
S=assets/samples

# LINKSCOPE_SELECT_ROW=N selects row N of the view's table; LINKSCOPE_GOTO=ADDR goes to an
# address as Ctrl+G would; LINKSCOPE_MAP=ZOOM,START zooms the layout map (START: the left edge
# as a fraction of the space) (all only in --screenshot mode).
# SIZE=WxH picks the screen (default 1280x800).
shot() {
    name=$1
    shift
    case " ${ONLY:-$name} " in
        *" $name "*) ;;
        *) return 0 ;;
    esac
    xvfb-run -a -s "-screen 0 ${SIZE:-1280x800}x24" "$BIN" --screenshot "$OUT/$name.png" "$@" >/dev/null
    echo "$OUT/$name.png"
}

# Every bundled sample (File → Open every sample on the Welcome page), autoimport.exe first.
ALL="$S/autoimport.exe $S/autoimport-small.exe $S/data.dll $S/comdat.obj $S/omf32.obj $S/main-nopie $S/libdata.so $S/link/crt0.obj $S/link/a.obj $S/link/b.obj $S/link/odr1.obj $S/link/odr2.obj $S/link/cxx.exe"
# shellcheck disable=SC2086
shot overview --view overview $ALL
LINKSCOPE_SELECT_ROW=19 shot headers --view headers $S/autoimport.exe
LINKSCOPE_SELECT_ROW=6 shot sections --view sections $S/autoimport.exe
shot layout-map --view map $S/autoimport.exe $S/data.dll
LINKSCOPE_SELECT_ROW=50 shot imports --view imports $S/autoimport.exe $S/data.dll
LINKSCOPE_SELECT_ROW=1 shot exports --view exports $S/data.dll $S/autoimport.exe
LINKSCOPE_SELECT_ROW=8 shot symbols --view symbols $S/comdat.obj
LINKSCOPE_SELECT_ROW=2 shot relocations --view relocations $S/autoimport.exe
LINKSCOPE_SELECT_ROW=2 shot relocations-elf --view relocations $S/main-nopie $S/libdata.so
LINKSCOPE_SELECT_ROW=2 shot pseudo-relocs --view pseudo-relocs $S/autoimport.exe $S/data.dll
shot comdats --view comdats $S/comdat.obj
# PDB: the section contributions of an lld-link /debug build (its PDB found beside it).
LINKSCOPE_SELECT_ROW=3 shot contributions --view contributions tests/fixtures/pdb/x64.exe
# The layout map's Objects lane on the same build, zoomed to .text.
LINKSCOPE_MAP=24,0.165 shot map-objects --view map tests/fixtures/pdb/x64.exe
shot layout-map-object --view map $S/comdat.obj
LINKSCOPE_GOTO=0x140009e80 shot hex --view hex $S/autoimport.exe
# A GNU ld v1 image: its extra import descriptors put IAT slots inside .text.
LINKSCOPE_SELECT_ROW=0 shot diagnostics --view diagnostics tests/fixtures/mingw32/autoimport-v1.exe
# shellcheck disable=SC2086
LINKSCOPE_THEME=light shot overview-light --view overview $ALL
LINKSCOPE_THEME=light LINKSCOPE_SELECT_ROW=4 shot pseudo-relocs-light --view pseudo-relocs $S/autoimport.exe $S/data.dll
# OMF: the Records view with a FIXUPP record selected (its fixups listed, its bytes tinted field by
# field in the hex pane), the segments of a 16-bit module, and the COMDATs of the byte-built
# COMDAT sample.
O=tests/fixtures/omf
LINKSCOPE_SELECT_ROW=17 shot records --view records $O/omf32.obj
LINKSCOPE_SELECT_ROW=4 shot disassembly-omf --view disassembly $O/omfcode.obj
LINKSCOPE_SELECT_ROW=0 shot sections-omf --view sections $O/omf16.obj
shot comdats-omf --view comdats $O/comdat.obj
# Data references and disassembly of the -mcmodel=small sample, its DLL beside it (at GNU ld's
# base, 3 GiB above the EXE: the runtime accepts the 32-bit sites but they wrap).
LINKSCOPE_SELECT_ROW=52 shot refs --view refs $S/autoimport-small.exe $S/data.dll
LINKSCOPE_SELECT_ROW=412 shot strings --view strings $S/autoimport.exe
LINKSCOPE_GOTO=0x14000157d shot disassembly --view disassembly $S/autoimport-small.exe $S/data.dll
shot patch --view patch $S/autoimport-small.exe $S/data.dll
LINKSCOPE_SELECT_ROW=5 shot diff --compare tests/fixtures/patch/x64-gnu/autoimport.exe tests/fixtures/patch/x64-gnu-small-near/autoimport.exe
# The Link view: the bundled C++ link compared with lld-link's image and map, and a link lld-link
# refuses (two NODUPLICATES copies), in its own words.
L=$S/link
shot link --view link $L/crt0.obj $L/a.obj $L/b.obj $L/odr1.obj $L/odr2.obj $L/cxx.exe
N=tests/fixtures/link/asm64/nodup
shot link-refused --view link $N/main.obj $N/a.obj $N/b.obj
# A DLL's exports and the import library GNU ld's --out-implib writes (a command line pasted into
# the Link view, its Image panel).
E=tests/fixtures/link/exports64
EXPORTS_CMD="x86_64-w64-mingw32-ld --shared -e start --out-implib gnu-dll.dll.a dllm.obj ../src/exports/dll.def"
LINKSCOPE_LINK=$EXPORTS_CMD LINKSCOPE_LINK_TAB=2 shot link-exports --view link $E/dllm.obj
SIZE=1000x700 LINKSCOPE_LINK=$EXPORTS_CMD LINKSCOPE_LINK_TAB=2 shot link-exports-1000 --view link $E/dllm.obj
# Objects -> link -> load -> patch: ld.lld's automatic import simulated, the written image (its
# unknown bytes listed in the Image panel), then loaded in the Patch view with data.dll open.
A=tests/fixtures/link/autoimport64
AUTO_CMD="ld.lld -m i386pep -e start main.o libdata.a"
LINKSCOPE_LINK=$AUTO_CMD LINKSCOPE_LINK_TAB=2 shot link-image --view link $A/main.o $S/data.dll
LINKSCOPE_LINK=$AUTO_CMD LINKSCOPE_LINK_LOAD=1 shot link-patch --view link $A/main.o $S/data.dll
SIZE=1000x700 LINKSCOPE_LINK=$AUTO_CMD LINKSCOPE_LINK_LOAD=1 shot link-patch-1000 --view link $A/main.o $S/data.dll
# The four views whose answers sit in wide columns, at 1000x700 too, each with a row selected (its
# full text in the details pane): the table scrolls sideways instead of squeezing them.
LINKSCOPE_SELECT_ROW=2 shot patch-row --view patch $S/autoimport-small.exe $S/data.dll
SIZE=1000x700 LINKSCOPE_SELECT_ROW=2 shot patch-1000 --view patch $S/autoimport-small.exe $S/data.dll
SIZE=1000x700 LINKSCOPE_SELECT_ROW=52 shot refs-1000 --view refs $S/autoimport-small.exe $S/data.dll
SIZE=1000x700 LINKSCOPE_GOTO=0x14000159a shot disassembly-1000 --view disassembly $S/autoimport-small.exe $S/data.dll
SIZE=1000x700 shot link-1000 --view link $L/crt0.obj $L/a.obj $L/b.obj $L/odr1.obj $L/odr2.obj $L/cxx.exe
# The built-in file browser (where no system file dialog can appear) and the Help menu.
LINKSCOPE_BROWSER=$S shot browser --view overview $S/autoimport.exe
LINKSCOPE_MENU=help shot help --view disassembly $S/autoimport.exe
# Process memory: a minidump as a Process document; a module of it opened and verified
# (LINKSCOPE_OPEN_MODULE), and its layout map with the "Memory vs file" lane (LINKSCOPE_MODULE_VIEW).
MD=tests/fixtures/dumps/md-x64-collide/self.dmp.gz
shot process --view process $MD
LINKSCOPE_OPEN_MODULE=data2.dll shot verify --view process $MD
LINKSCOPE_OPEN_MODULE=data2.dll LINKSCOPE_MODULE_VIEW=map shot layout-map-memory --view process $MD
# A running process (File → Open process…): the core fixture's program, started here (it waits
# until it is ended, below). The process picker (LINKSCOPE_MENU=process, filtered to this folder by
# LINKSCOPE_PROCESS_FILTER: this app and the program), the program as a Process document
# (LINKSCOPE_PID), and its libdata.so verified against its memory, at both sizes.
LD_BIND_NOW=1 tests/fixtures/dumps/elf-core/main wait >/dev/null &
LIVE=$!
trap 'kill "$LIVE" 2>/dev/null || true' EXIT
sleep 0.5
LINKSCOPE_MENU=process LINKSCOPE_PROCESS_FILTER="$PWD" shot process-picker
SIZE=1000x700 LINKSCOPE_MENU=process LINKSCOPE_PROCESS_FILTER="$PWD" shot process-picker-1000
LINKSCOPE_PID=$LIVE shot process-live
SIZE=1000x700 LINKSCOPE_PID=$LIVE shot process-live-1000
LINKSCOPE_PID=$LIVE LINKSCOPE_OPEN_MODULE=libdata.so shot verify-live
kill "$LIVE" 2>/dev/null || true
# No file: the Welcome page (what the app is for, the tours, the samples, Open…), at both sizes.
shot welcome
SIZE=1000x700 shot welcome-1000
# The guided tours: the first and a middle step of each (walked there by "Show me"), one at
# 1000x700 and one in the light theme.
shot tour-1-step-1 --tour 1 --step 1
shot tour-1-step-5 --tour 1 --step 5
shot tour-2-step-1 --tour 2 --step 1
shot tour-2-step-5 --tour 2 --step 5
shot tour-3-step-1 --tour 3 --step 1
shot tour-3-step-4 --tour 3 --step 4
shot tour-4-step-1 --tour 4 --step 1
shot tour-4-step-2 --tour 4 --step 2
shot tour-5-step-1 --tour 5 --step 1
shot tour-5-step-3 --tour 5 --step 3
shot tour-5-step-5 --tour 5 --step 5
SIZE=1000x700 shot tour-2-step-5-1000 --tour 2 --step 5
LINKSCOPE_THEME=light shot tour-4-step-3-light --tour 4 --step 3
