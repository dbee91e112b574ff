#!/usr/bin/env python3
"""Writes the pickle and PyTorch checkpoint fixtures used by the Swift tests.

Run once with a Python that has torch (the fixtures are committed):
    /work/main/.venv-tools/bin/python tools/make_pickle_fixtures.py [NAME...]
With names, only those checkpoint fixtures are written, and no pickle fixtures.

Checkpoint fixtures: `NAME.data.pkl` is the data.pkl of a tiny torch.save archive;
`NAME.expected.json` lists its tensors (name, shape, stride, offset, dtype, storage key,
parameter flags) and the size of every storage record, taken from the archive itself.

Pickle fixtures: `valueN.pkl` is one value pickled by CPython with protocol N, and
`value.expected.txt` is its canonical rendering (see `render`), shared by all protocols.
"""
import io
import json
import os
import pickle
import sys
import zipfile
from collections import OrderedDict

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PICKLE_DIR = os.path.join(ROOT, "Tests", "WeightScopePickleTests", "Fixtures")
TORCH_DIR = os.path.join(ROOT, "Tests", "WeightScopePyTorchTests", "Fixtures")


def render(value):
    """A canonical text form that the Swift tests rebuild from the pickle machine's output."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "s'" + value + "'"
    if isinstance(value, bytearray):
        return "ba'" + value.hex() + "'"
    if isinstance(value, bytes):
        return "b'" + value.hex() + "'"
    if isinstance(value, tuple):
        return "(" + ",".join(render(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    if isinstance(value, frozenset):
        return "frozenset{" + ",".join(render(v) for v in value) + "}"
    if isinstance(value, set):
        return "set{" + ",".join(render(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(render(k) + ":" + render(v) for k, v in value.items()) + "}"
    raise TypeError(type(value))


def write_pickles():
    os.makedirs(PICKLE_DIR, exist_ok=True)
    shared = [1, 2]
    value = {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, -65536, 2**31 - 1, -(2**31), 2**40, -(2**63),
                 2**63 - 1, 2**64, -(2**70) - 5, 10**30],
        "floats": [1.5, -0.25, 0.0, 1e100],
        "text": ["", "plain", "caf\u00e9", "line\nbreak", "quote'\"\\", "\u4e2d\U0001f600"],
        "bytes": [b"", b"\x00\x01\xff", b"x" * 300],
        "bytearray": bytearray(b"ab"),
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "consts": [None, True, False],
        "set": {1, 2, 3},
        "frozenset": frozenset({"a"}),
        "shared": [shared, shared],
        "long_list": list(range(1200)),
        7: "int key",
        (1, "t"): "tuple key",
    }
    with open(os.path.join(PICKLE_DIR, "value.expected.txt"), "w") as out:
        out.write(render(value) + "\n")
    for protocol in range(0, 6):
        with open(os.path.join(PICKLE_DIR, f"value{protocol}.pkl"), "wb") as out:
            out.write(pickle.dumps(value, protocol=protocol))


def describe_archive(path, obj_names):
    """Storage record sizes and data.pkl bytes of a torch.save archive."""
    archive = zipfile.ZipFile(path)
    records = {}
    data_pkl = None
    for info in archive.infolist():
        parts = info.filename.split("/")
        if len(parts) == 3 and parts[1] == "data":
            records[parts[2]] = info.file_size
        if len(parts) == 2 and parts[1] == "data.pkl":
            data_pkl = archive.read(info)
    return data_pkl, records


def tensor_rows(obj, prefix="", section=""):
    """The tensors of `obj` in the order torch.save wrote them, with their dotted names."""
    rows = []
    if isinstance(obj, nn.Module):
        # A pickled module: its own parameters and buffers, then its children, as in __dict__.
        for name, value in obj._parameters.items():
            rows += tensor_rows(value, f"{prefix}.{name}" if prefix else name, section)
        for name, value in obj._buffers.items():
            for row in tensor_rows(value, f"{prefix}.{name}" if prefix else name, section):
                row["parameter"] = False
                rows.append(row)
        for name, child in obj._modules.items():
            rows += tensor_rows(child, f"{prefix}.{name}" if prefix else name, section)
    elif isinstance(obj, torch.Tensor):
        storage = obj.untyped_storage()
        rows.append({
            "name": prefix,
            "shape": list(obj.shape),
            "stride": list(obj.stride()),
            "offset": obj.storage_offset(),
            "dtype": str(obj.dtype).replace("torch.", ""),
            "storage_ptr": storage.data_ptr(),
            "parameter": True if isinstance(obj, nn.Parameter) else None,
            "requires_grad": obj.requires_grad if isinstance(obj, nn.Parameter) else None,
            "section": section,
        })
    elif isinstance(obj, dict):
        for key, value in obj.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            inner = section
            if not prefix and str(key).startswith("optim"):
                inner = "optimizer"
            rows += tensor_rows(value, name, inner)
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            rows += tensor_rows(value, f"{prefix}.{index}" if prefix else str(index), section)
    return rows


ONLY = set(sys.argv[1:])


def save_checkpoint(name, obj, **kwargs):
    if ONLY and name not in ONLY:
        return
    os.makedirs(TORCH_DIR, exist_ok=True)
    path = os.path.join(TORCH_DIR, name + ".pt")
    torch.save(obj, path, **kwargs)
    data_pkl, records = describe_archive(path, None)
    os.remove(path)
    rows = tensor_rows(obj)
    # Storage keys are assigned in order of first appearance, one per distinct storage.
    keys = {}
    for row in rows:
        ptr = row.pop("storage_ptr")
        if ptr not in keys:
            keys[ptr] = str(len(keys))
        row["key"] = keys[ptr]
    facts = {}
    if isinstance(obj, dict):
        facts = {k: str(v) for k, v in obj.items()
                 if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    with open(os.path.join(TORCH_DIR, name + ".data.pkl"), "wb") as out:
        out.write(data_pkl)
    with open(os.path.join(TORCH_DIR, name + ".expected.json"), "w") as out:
        json.dump({"tensors": rows, "records": records, "facts": facts}, out, indent=1)
        out.write("\n")


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(Block(), Block())
        self.fc = nn.Linear(3, 2)


def write_checkpoints():
    torch.manual_seed(0)
    save_checkpoint("nested", Net().state_dict())

    save_checkpoint("dtypes", OrderedDict([
        ("half", torch.zeros(2, 3, dtype=torch.float16)),
        ("bf16", torch.zeros(4, dtype=torch.bfloat16)),
        ("steps", torch.tensor(7, dtype=torch.int64)),
        ("mask", torch.ones(3, dtype=torch.bool)),
        ("f8", torch.zeros(2, dtype=torch.float8_e4m3fn)),
    ]))

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    save_checkpoint("tied", {
        "embed.weight": base,
        "head.weight": base,
        "row": base[1],
        "column": base[:, 2],
        "transposed": base.t(),
    })

    save_checkpoint("proto4", Net().state_dict(), pickle_protocol=4)

    save_checkpoint("parameter", {
        "p": nn.Parameter(torch.zeros(2, 2)),
        "frozen": nn.Parameter(torch.zeros(3), requires_grad=False),
        "plain": torch.zeros(1),
    })

    net = nn.Linear(2, 2)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    save_checkpoint("training", {
        "state_dict": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 3,
        "version": "1.0",
    })

    # A whole pickled module (torch.save(model)), which names classes outside the allowlist.
    save_checkpoint("module", nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))

    # A state dict of three batches of items (torch.save writes SETITEMS every 1000), for the
    # reader that takes the pickle in two parts: the second part recalls the rebuild function,
    # `storage`, a storage class and storage keys memoized in the first (views of a first-part
    # tensor, a half-precision layer on both sides), and names a storage class (Long, the
    # BatchNorm step counters) first seen in it.
    layers = [nn.Linear(1, 1) for _ in range(1200)]
    layers[7].half()
    layers[1100].half()
    many = nn.Sequential(*layers, nn.BatchNorm1d(2), nn.BatchNorm1d(2)).state_dict()
    base = many["0.weight"]
    many["tail.row"] = base[0]
    many["tail.same"] = many["3.bias"].view(1)
    save_checkpoint("many", many)


if __name__ == "__main__":
    if not ONLY:
        write_pickles()
    write_checkpoints()
