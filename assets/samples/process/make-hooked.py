#!/usr/bin/env python3
"""Write self-hooked.dmp.gz: self.dmp.gz with one byte changed in the process's memory, at the
IAT slot of data.dll!ptr in autoimport.exe (VA 0x14000e2c8, its low byte XOR 0x5a), as an IAT
hook would change it. The "check a real process" tour loads it to show the byte flagged.

    python3 assets/samples/process/make-hooked.py
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
VA = 0x14000E2C8  # autoimport.exe's IAT slot of data.dll!ptr (image base 0x140000000 + 0xe2c8)

data = bytearray(gzip.decompress(open(os.path.join(HERE, "self.dmp.gz"), "rb").read()))
sig, _ver, nstreams, dir_rva = struct.unpack_from("<4sIII", data, 0)
assert sig == b"MDMP", "not a minidump"
offset = None
for i in range(nstreams):
    kind, _size, rva = struct.unpack_from("<III", data, dir_rva + 12 * i)
    if kind != 9:  # Memory64ListStream
        continue
    count, base = struct.unpack_from("<QQ", data, rva)
    at = base
    for k in range(count):
        start, size = struct.unpack_from("<QQ", data, rva + 16 + 16 * k)
        if start <= VA < start + size:
            offset = at + (VA - start)
            break
        at += size
assert offset is not None, "the slot is not in the dump's memory"
data[offset] ^= 0x5A
with open(os.path.join(HERE, "self-hooked.dmp.gz"), "wb") as f:
    f.write(gzip.compress(bytes(data), mtime=0))
print(f"self-hooked.dmp.gz: byte at {VA:#x} (dump offset {offset:#x}) xor 0x5a")
