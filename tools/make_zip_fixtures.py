#!/usr/bin/env python3
"""Writes the small zip archives the zip reader's tests read (stdlib only).

Generate once: existing files are kept unless --force is given.
"""
import io
import os
import struct
import sys
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "WeightScopeZipTests", "Fixtures")
FORCE = "--force" in sys.argv


def write(name, data):
    path = os.path.join(OUT, name)
    if os.path.exists(path) and not FORCE:
        return
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {name} ({len(data)} bytes)")


def archive(entries, compression=zipfile.ZIP_STORED, force_zip64=False, comment=b""):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
        z.comment = comment
    return buf.getvalue()


os.makedirs(OUT, exist_ok=True)
pickle_like = bytes(range(256)) * 4
write("stored.zip", archive([("model/data.pkl", pickle_like), ("model/data/0", b"\x00" * 64), ("model/version", b"3\n")]))
write("deflated.zip", archive([("top/data.pkl", pickle_like * 8), ("top/version", b"3\n")], zipfile.ZIP_DEFLATED))
# Zip64 end record, locator and extra fields, as torch writes for large checkpoints.
limits = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
write("zip64.zip", archive([("archive/data.pkl", pickle_like), ("archive/data/0", b"\x01" * 32)], force_zip64=True))
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits
write("comment.zip", archive([("a/data.pkl", b"abc")], comment=b"PK\x05\x06 looks like an end record"))
write("empty.zip", archive([]))

# A CRC that does not match: flip one data byte of a stored entry, leave the directory alone.
good = bytearray(archive([("c/data.pkl", b"hello world")]))
at = good.index(b"hello world")
good[at] ^= 0x01
write("bad_crc.zip", bytes(good))

# Two entries with one name.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("d/data.pkl", b"first")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z.writestr("d/data.pkl", b"second")
write("duplicate.zip", buf.getvalue())

# The local header names a different file than the central directory.
lie = bytearray(archive([("e/data.pkl", b"payload")]))
lie[30:30 + len(b"e/data.pkl")] = b"e/evil.pkl"
write("local_name_mismatch.zip", bytes(lie))

# Two directory entries pointing at the same local header.
one = archive([("f/a", b"x" * 10), ("f/b", b"y" * 10)])
cd = one.index(b"PK\x01\x02")
second = one.index(b"PK\x01\x02", cd + 4)
patched = bytearray(one)
patched[second + 42:second + 46] = struct.pack("<I", 0)
write("overlap.zip", bytes(patched))
