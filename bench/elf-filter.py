#!/usr/bin/env python3
"""Prints the x86_64 ELF files among the paths on standard input (one a
line, kept in order): with --programs those with a PT_INTERP (dynamic
programs), otherwise those with a PT_DYNAMIC segment. Used by the bench
scripts to pick their batch."""
import struct, sys
want = 3 if sys.argv[1:] == ["--programs"] else 2   # PT_INTERP or PT_DYNAMIC
for line in sys.stdin:
    path = line.rstrip("\n")
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if len(h) < 64 or h[:4] != b"\x7fELF" or h[4] != 2:
                continue
            e = "<" if h[5] == 1 else ">"
            if struct.unpack(e + "H", h[18:20])[0] != 62:   # EM_X86_64
                continue
            phoff, = struct.unpack(e + "Q", h[32:40])
            phentsize, phnum = struct.unpack(e + "HH", h[54:58])
            f.seek(phoff)
            t = f.read(phentsize * phnum)
            if any(struct.unpack(e + "I", t[i * phentsize:i * phentsize + 4])[0] == want
                   for i in range(phnum) if len(t) >= i * phentsize + 4):
                print(path)
    except OSError:
        pass
