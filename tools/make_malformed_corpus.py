#!/usr/bin/env python3
"""Writes the malformed-input corpus for Tests/WeightScopeScanTests/Malformed.

Standard library only. Pickles are written opcode by opcode, or with `pickle` over stand-in
classes registered under torch's module names; nothing here is ever unpickled, and no
dangerous callable is ever pickled as an object: dangerous names are plain text in opcodes.

Usage: tools/make_malformed_corpus.py [OUT_DIR]
"""

import io
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "WeightScopeScanTests", "Malformed")


# Stand-ins for the names torch.save writes, so that `pickle` writes the same opcodes.
def _stand_in_modules():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("stand-in")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


TORCH, UTILS = _stand_in_modules()


class Tensor:
    """A tensor as torch.save pickles it: _rebuild_tensor_v2(storage, offset, size, stride)."""

    def __init__(self, key, size, numel, offset=0, stride=None):
        self.key, self.size, self.numel, self.offset = key, tuple(size), numel, offset
        if stride is None:
            stride, step = [], 1
            for dim in reversed(size):
                stride.insert(0, step)
                step *= max(dim, 1)
        self.stride = tuple(stride)

    def __reduce__(self):
        storage = StorageRef(self.key, self.numel)
        from collections import OrderedDict
        return (UTILS._rebuild_tensor_v2,
                (storage, self.offset, self.size, self.stride, False, OrderedDict()))


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", TORCH.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def torch_zip(members, top="archive", prefix=b"", comment=b""):
    """A torch.save-like archive: stored entries under `top/`, optionally after `prefix`."""
    buf = io.BytesIO()
    buf.write(prefix)
    with zipfile.ZipFile(buf, "a" if prefix else "w", zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(f"{top}/{name}" if top else name), data)
        z.comment = comment
    return buf.getvalue()


def floats(n):
    return struct.pack(f"<{n}f", *[float(i) for i in range(n)])


def checkpoint(pkl, storages=(("0", floats(6)),), extra=()):
    members = [("data.pkl", pkl)]
    members += [(f"data/{k}", v) for k, v in storages]
    members += list(extra)
    members += [("version", b"3\n"), ("byteorder", b"little")]
    return torch_zip(members)


GOOD_PKL = torch_pickle({"w": Tensor("0", (2, 3), 6)})


# Opcode helpers (pickletools names).
def short_unicode(text):
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


PROTO2 = b"\x80\x02"
PROTO4 = b"\x80\x04"


def call(callable_ops, *args):
    """callable, (args...), REDUCE."""
    return callable_ops + b"(" + b"".join(args) + b"tR"


def with_limits_bomb(size):
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(b"\0" * size) + comp.flush()
    return data


def deflated_zip(name, raw_deflate, declared_size, crc=0):
    """A single deflated entry whose directory declares `declared_size` inflated bytes."""
    name_b = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw_deflate),
                        declared_size, len(name_b), 0) + name_b
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(raw_deflate), declared_size, len(name_b), 0, 0, 0, 0, 0, 0) + name_b
    body = local + raw_deflate
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def patch(data, offset, new):
    return data[:offset] + new + data[offset + len(new):]


def find_central(data, name):
    return [i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)
         and data[i + 46:i + 46 + len(name)] == name.encode()][0]


def find_local(data, name):
    return [i for i in range(len(data)) if data.startswith(b"PK\x03\x04", i)
            and data[i + 30:i + 30 + len(name)] == name.encode()][0]


def corpus():
    files = {}

    # --- Pickles judged by the scan -------------------------------------------------------
    files["os_system_global.pkl"] = PROTO2 + call(glob("os", "system"), short_unicode("true")) + b"."
    # Module and name memoized first, then recalled for STACK_GLOBAL.
    files["stack_global_memo.pkl"] = (
        PROTO4 + short_unicode("builtins") + b"\x94" + short_unicode("eval") + b"\x94" + b"0" + b"0"
        + b"h\x00h\x01\x93" + short_unicode("1") + b"\x85R.")
    files["inst_subprocess.pkl"] = b"(" + b"S'ls'\n" + b"isubprocess\nPopen\n."
    files["obj_runpy.pkl"] = PROTO2 + b"(" + glob("runpy", "run_path") + short_unicode("x") + b"o."
    files["newobj_ex_unknown.pkl"] = (
        PROTO4 + short_unicode("mylib.models") + short_unicode("Net") + b"\x93" + b")" + b"}"
        + b"\x92.")
    files["ext_code.pkl"] = PROTO2 + b"\x82\x05" + b")R."
    files["dotted_name.pkl"] = (
        PROTO4 + short_unicode("builtins") + short_unicode("getattr.__call__") + b"\x93" + b"N.")
    files["uncalled_import.pkl"] = PROTO2 + glob("ctypes", "CDLL") + b"0N."
    files["two_pickles.pkl"] = (
        pickle.dumps({"a": 1}, protocol=2)
        + PROTO2 + call(glob("posix", "system"), short_unicode("id")) + b".")
    files["trailing_bytes.pkl"] = pickle.dumps([1, 2], protocol=2) + b"HIDDEN PAYLOAD"
    files["broken_after_system.pkl"] = PROTO2 + call(glob("os", "system"), short_unicode("id")) + b"\xff"
    files["getattr_builtins.pkl"] = PROTO2 + call(glob("__builtin__", "getattr"), b"N", short_unicode("x")) + b"."

    # --- Zip tricks -----------------------------------------------------------------------
    evil = PROTO2 + call(glob("os", "system"), short_unicode("id")) + b"."
    files["clean.pt"] = checkpoint(GOOD_PKL)
    files["pickle_before_zip.pt"] = torch_zip(
        [("data.pkl", GOOD_PKL), ("data/0", floats(6)), ("version", b"3\n")], prefix=evil)
    files["constants_member.pt"] = checkpoint(GOOD_PKL, extra=[("constants.pkl", evil)])
    files["hidden_member.pt"] = checkpoint(GOOD_PKL, extra=[
        ("extra/blob", PROTO4 + short_unicode("builtins") + short_unicode("exec") + b"\x93"
         + short_unicode("x") + b"\x85R.")])
    files["data_pkl_trailing.pt"] = checkpoint(GOOD_PKL + evil)
    files["duplicate_data_pkl.pt"] = torch_zip([
        ("data.pkl", GOOD_PKL), ("data/0", floats(6)), ("data.pkl", evil), ("version", b"3\n")])

    data = checkpoint(GOOD_PKL)
    at = find_local(data, "archive/data/0")
    files["local_name_mismatch.pt"] = patch(data, at + 30, b"archive/data/9")
    files["local_method_mismatch.pt"] = patch(data, at + 8, struct.pack("<H", 8))
    files["local_size_mismatch.pt"] = patch(data, at + 18, struct.pack("<I", 7))

    # The directory entry of data/0 points at the local header of data.pkl.
    data = checkpoint(GOOD_PKL)
    cd = find_central(data, "archive/data/0")
    files["overlap.pt"] = patch(data, cd + 42, struct.pack("<I", find_local(data, "archive/data.pkl")))

    # A fake end record inside the real record's comment.
    fake_end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0)
    files["hidden_end_record.pt"] = torch_zip(
        [("data.pkl", GOOD_PKL), ("data/0", floats(6))], comment=b"note" + fake_end)

    data = checkpoint(GOOD_PKL)
    at = find_local(data, "archive/data/0") + 30 + len("archive/data/0")
    files["bad_crc.pt"] = patch(data, at, b"\xff")

    # --- Read errors ----------------------------------------------------------------------
    data = checkpoint(GOOD_PKL)
    files["truncated_end.pt"] = data[:-10]
    files["bad_magic.pt"] = b"NOTAMODEL" + data[9:]
    end = data.rindex(b"PK\x05\x06")
    files["lying_entry_count.pt"] = patch(data, end + 8, struct.pack("<HH", 9, 9))
    files["lying_directory_offset.pt"] = patch(data, end + 16, struct.pack("<I", len(data) + 100))
    files["missing_storage.pt"] = torch_zip([("data.pkl", GOOD_PKL), ("version", b"3\n")])
    files["short_storage.pt"] = checkpoint(GOOD_PKL, storages=(("0", floats(2)),))
    files["overflowing_shape.pt"] = checkpoint(
        torch_pickle({"w": Tensor("0", (1 << 62, 1 << 62), 6, stride=(1, 1))}))
    files["rank_100.pt"] = checkpoint(torch_pickle({"w": Tensor("0", (1,) * 100, 6)}))
    files["deep_nesting.pt"] = checkpoint(PROTO2 + b"]" * 1000 + b"a" * 999 + b".")
    files["mark_depth.pt"] = checkpoint(PROTO2 + b"(" * 20000 + b"N.")
    files["undefined_memo.pt"] = checkpoint(PROTO2 + b"h\x07.")
    files["huge_string.pt"] = checkpoint(PROTO4 + b"\x8d" + struct.pack("<Q", 1 << 60) + b"x.")
    # A "billion laughs": ten references to the list one level down, 40 levels deep.
    laughs = PROTO2 + b"]q\x00"
    for level in range(1, 41):
        laughs += b"(" + b"h" + bytes([level - 1]) * 1 + (b"h" + bytes([level - 1])) * 9 + b"lq" + bytes([level])
    files["billion_laughs.pt"] = checkpoint(laughs + b".")

    bomb = with_limits_bomb(8 << 20)
    files["zip_bomb.zip"] = deflated_zip("archive/data.pkl", bomb, 8 << 20, zlib.crc32(b"\0" * (8 << 20)))
    files["zip_bomb_lying_size.zip"] = deflated_zip("archive/data.pkl", bomb, 1000)

    # ONNX: a ModelProto whose graph nests 200 NodeProto/AttributeProto/GraphProto levels.
    def field(number, payload):
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    def varint(value):
        out = b""
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                out += bytes([byte | 0x80])
            else:
                return out + bytes([byte])

    graph = b""
    for _ in range(200):
        attribute = field(1, b"g") + field(6, graph)  # AttributeProto.name, .g
        graph = field(1, field(5, attribute))  # GraphProto.node -> NodeProto.attribute
    files["onnx_deep.onnx"] = varint(1 << 3) + varint(8) + field(7, graph)
    # An initializer whose dims multiply past 2^63.
    tensor = b"".join(varint(1 << 3) + varint(1 << 40) for _ in range(2))
    tensor += varint(2 << 3) + varint(1) + field(8, b"t")
    files["onnx_overflow_dims.onnx"] = varint(1 << 3) + varint(8) + field(7, field(5, tensor))

    # Bit flips in the clean checkpoint, at fixed places (headers, directory, pickle).
    clean = files["clean.pt"]
    for i, offset in enumerate([0, 8, 26, 40, len(clean) - 22, len(clean) - 12, len(clean) - 6,
                                find_central(clean, "archive/data.pkl") + 10]):
        files[f"bitflip_{i}.pt"] = patch(clean, offset, bytes([clean[offset] ^ 0x41]))
    return files


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(corpus().items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(corpus())} files to {OUT}")


if __name__ == "__main__":
    main()
