#!/usr/bin/env python3
"""Capture what pefile (an independent PE reader) sees in every PE file of the shared corpus.

Writes one JSON line per file under `pe/` of the corpus, sorted by path, to
tests/corpus/pefile.jsonl (or the path given with --out).  tests/pefile_agreement.rs reads the
capture, normalises linkscope's model the same way and compares; Python is only needed to
refresh the capture (scripts/pefile-compare.sh makes a virtual environment with the pinned
pefile version).

Each line holds:
  path      the file's path inside the corpus (e.g. "pe/corkami/dllord.dll")
  pefile    the pefile version that made the line
  error     present instead of the lists when pefile cannot open the file
  sections  "NAME|rva|vsize|rawptr|rawsize" for every section header pefile keeps
            (rawptr is 0 when rawsize is 0; NAME is the 8-byte field up to its first NUL)
  imports   "DLL|NAME or #ORDINAL|iat_rva" for every import entry of the import directory
  relocs    "rva|type" for every base-relocation entry except ABSOLUTE padding (type 0)
  exports   "ordinal|NAME|rva" for every exported address (NAME empty when by ordinal only)
Names are decoded as linkscope shows text: lossy UTF-8, C0 controls as \\xNN.
All numbers are lower-case hex without prefix.  Every list is sorted; a list longer than
LIMIT entries is stored as {"n": count, "fnv": FNV-1a-64 of its entries joined by "\\n"}
so the capture stays small.

Usage: pefile-compare.py [--corpus DIR] [--out FILE] [--full]
  --full  never hash lists (for looking into a difference by hand)
"""

import argparse
import json
import os
import signal
import sys

import pefile

LIMIT = 48
TIMEOUT = 60


def fnv(items):
    h = 0xCBF29CE484222325
    for b in "\n".join(items).encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def pack(items, full):
    items = sorted(items)
    if full or len(items) <= LIMIT:
        return items
    return {"n": len(items), "fnv": fnv(items)}


def name_text(raw):
    """Bytes up to the first NUL, as linkscope's text(): lossy UTF-8, C0 controls as \\xNN."""
    raw = raw.split(b"\0", 1)[0]
    s = raw.decode("utf-8", errors="replace")
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 else c for c in s)


def capture(pe, full):
    base = pe.OPTIONAL_HEADER.ImageBase
    secs = []
    for s in pe.sections:
        ptr = s.PointerToRawData if s.SizeOfRawData else 0
        secs.append(f"{name_text(s.Name)}|{s.VirtualAddress:x}|{s.Misc_VirtualSize:x}|{ptr:x}|{s.SizeOfRawData:x}")
    imps = []
    for d in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []):
        dll = name_text(d.dll or b"")
        for i in d.imports:
            what = f"#{i.ordinal:x}" if i.import_by_ordinal else name_text(i.name or b"")
            iat = (i.address - base) & 0xFFFFFFFFFFFFFFFF if i.address is not None else 0
            imps.append(f"{dll}|{what}|{iat:x}")
    rels = []
    for blk in getattr(pe, "DIRECTORY_ENTRY_BASERELOC", []):
        for e in blk.entries:
            if e.type != 0:
                rels.append(f"{e.rva:x}|{e.type:x}")
    exps = []
    ed = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
    if ed is not None:
        for s in ed.symbols:
            exps.append(f"{s.ordinal:x}|{name_text(s.name or b'')}|{s.address:x}")
    return {
        "sections": pack(secs, full),
        "imports": pack(imps, full),
        "relocs": pack(rels, full),
        "exports": pack(exps, full),
    }


class Timeout(Exception):
    pass


def on_alarm(_sig, _frame):
    raise Timeout()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(repo, "..", "shared", "corpus"))
    ap.add_argument("--out", default=os.path.join(repo, "tests", "corpus", "pefile.jsonl"))
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()
    root = os.path.join(args.corpus, "pe")
    paths = []
    for d, _dirs, files in os.walk(root):
        for f in files:
            if not f.endswith((".tsv", ".md")):
                paths.append(os.path.relpath(os.path.join(d, f), args.corpus).replace(os.sep, "/"))
    paths.sort()
    signal.signal(signal.SIGALRM, on_alarm)
    lines = []
    opened = 0
    for p in paths:
        rec = {"path": p, "pefile": pefile.__version__}
        signal.alarm(TIMEOUT)
        try:
            pe = pefile.PE(os.path.join(args.corpus, p), fast_load=True)
            pe.parse_data_directories(
                directories=[
                    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"],
                    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_BASERELOC"],
                ]
            )
            rec.update(capture(pe, args.full))
            opened += 1
        except Timeout:
            rec["error"] = f"pefile took more than {TIMEOUT} s"
        except Exception as e:  # pefile raises PEFormatError and, on hostile files, others
            rec["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:160]
        finally:
            signal.alarm(0)
        lines.append(json.dumps(rec, separators=(",", ":"), sort_keys=True))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    print(f"{len(paths)} files under pe/, pefile {pefile.__version__} opened {opened}; wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
