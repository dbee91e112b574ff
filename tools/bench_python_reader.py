#!/usr/bin/env python3
"""Metadata-only reader for PyTorch checkpoints, in pure Python (no torch import).

Lists every tensor of a `torch.save` zip archive, a TorchScript archive or a
legacy (pre-1.6) pickle stream without touching tensor data: it reads the zip
central directory, then unpickles `data.pkl` with a restricted Unpickler whose
`persistent_load` returns a storage placeholder and whose `find_class` allows
only the tensor rebuild functions and storage/dtype names, returning stand-ins.

Used as the "pure Python" baseline by bench_listing.py and, by
make_test_models.py, to read storage keys back from the files it writes.

    python tools/bench_python_reader.py FILE [--list] [--any-global]
"""

from __future__ import annotations

import collections
import pickle
import sys
import zipfile

# Storage class name -> PyTorch dtype spelling.
STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64", "CharStorage": "int8", "ShortStorage": "int16",
    "IntStorage": "int32", "LongStorage": "int64", "ByteStorage": "uint8",
    "BoolStorage": "bool", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
    "UntypedStorage": "uint8",
}

# dtype names that appear as `torch.<name>` globals (rebuild_tensor_v3, qtensor dtypes).
DTYPE_NAMES = {
    "float64", "float32", "float16", "bfloat16", "complex32", "complex64", "complex128",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn_x2", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "bool", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
}

QSCHEMES = {"per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
            "per_channel_symmetric", "per_channel_affine_float_qparams"}

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class DTypeRef(str):
    """A `torch.<dtype>` global, kept as its name."""


class StorageRef:
    """What a persistent id names: a storage in the archive, never read."""

    __slots__ = ("key", "dtype", "location", "numel")

    def __init__(self, key, dtype, location, numel):
        self.key, self.dtype, self.location, self.numel = key, dtype, location, numel


class TensorRef:
    """A tensor's metadata: storage key, dtype, shape, stride, offset."""

    __slots__ = ("storage", "offset", "shape", "stride", "dtype", "requires_grad",
                 "is_parameter", "quantized")

    def __init__(self, storage, offset, shape, stride, dtype, requires_grad=False,
                 quantized=None):
        self.storage, self.offset = storage, offset
        self.shape, self.stride = tuple(shape), tuple(stride)
        self.dtype = dtype
        self.requires_grad = bool(requires_grad)
        self.is_parameter = False
        self.quantized = quantized

    @property
    def elements(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self):
        return f"TensorRef({self.dtype}{list(self.shape)} @ {self.storage.key}+{self.offset})"


class ScriptObject:
    """Stand-in for a TorchScript `__torch__.*` class instance; keeps its state."""

    type_name = "?"

    def __init__(self, *args):
        self.args = args
        self.state = None

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        return f"<{self.type_name}>"


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None,
                       metadata=None):
    return TensorRef(storage, offset, size, stride, storage.dtype, requires_grad)


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype,
                       metadata=None):
    return TensorRef(storage, offset, size, stride, str(dtype), requires_grad)


def _rebuild_qtensor(storage, offset, size, stride, qparams, requires_grad, hooks):
    return TensorRef(storage, offset, size, stride, storage.dtype, requires_grad,
                     quantized=qparams)


def _rebuild_parameter(data, requires_grad, hooks, state=None):
    if isinstance(data, TensorRef):
        data.is_parameter = True
        data.requires_grad = bool(requires_grad)
    return data


def _identity(*args):
    return args[0] if len(args) == 1 else args


ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_qtensor"): _rebuild_qtensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.jit._pickle", "restore_type_tag"): lambda value, tag: value,
    ("torch.jit._pickle", "build_intlist"): _identity,
    ("torch.jit._pickle", "build_tensorlist"): _identity,
    ("torch.jit._pickle", "build_doublelist"): _identity,
    ("torch.jit._pickle", "build_boollist"): _identity,
}


class MetadataUnpickler(pickle.Unpickler):
    """Unpickler that allows only tensor rebuild functions and returns stand-ins."""

    def __init__(self, file, allow_script_objects=False, allow_any_global=False):
        super().__init__(file)
        self.allow_script_objects = allow_script_objects
        self.allow_any_global = allow_any_global
        self.script_classes = {}

    def find_class(self, module, name):
        fn = ALLOWED.get((module, name))
        if fn is not None:
            return fn
        if module in ("torch", "torch.storage") and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        if module == "torch" and name in DTYPE_NAMES:
            return DTYPE_NAMES_REF[name]
        if module == "torch" and name in QSCHEMES:
            return name
        if (self.allow_script_objects and module.startswith("__torch__")) \
                or self.allow_any_global:
            cls = self.script_classes.get((module, name))
            if cls is None:
                cls = type(name, (ScriptObject,), {"type_name": f"{module}.{name}"})
                self.script_classes[(module, name)] = cls
            return cls
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        # zip: ('storage', type, key, location, numel); legacy adds view_metadata.
        _, dtype, key, location, numel = pid[:5]
        return StorageRef(str(key), str(dtype), location, numel)


DTYPE_NAMES_REF = {name: DTypeRef(name) for name in DTYPE_NAMES}


MODULE_DICTS = {"_modules", "_parameters", "_buffers"}


def flatten(obj, path=(), out=None, depth=0):
    """All tensors reachable from `obj` as (path tuple, TensorRef), in pickle order."""
    if out is None:
        out = []
    if depth > 64:
        return out
    if isinstance(obj, TensorRef):
        out.append((path, obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, path + (str(k),), out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, path + (str(i),), out, depth + 1)
    elif isinstance(obj, ScriptObject):
        state = obj.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = state[1]  # (dict state, slot state) from object.__reduce_ex__
        if isinstance(state, dict):
            # A pickled nn.Module keeps its tensors under these dicts; the
            # framework's own names skip them.
            for k, v in state.items():
                sub = path if k in MODULE_DICTS else path + (str(k),)
                flatten(v, sub, out, depth + 1)
        elif state is not None:
            flatten(state, path, out, depth + 1)
    return out


def read_zip(path, allow_any_global=False):
    """Returns (format, archive prefix, root object) of a zip checkpoint."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") and n.count("/") == 1), None)
        if pkl is None:
            raise ValueError("no <archive>/data.pkl in zip")
        prefix = pkl[: -len("data.pkl")]
        is_script = any(n.startswith(prefix + "code/") for n in names) or \
            (prefix + "constants.pkl") in names
        with z.open(pkl) as f:
            root = MetadataUnpickler(f, allow_script_objects=is_script,
                                     allow_any_global=allow_any_global).load()
    return ("torchscript" if is_script else "pytorch-zip"), prefix, root


def read_legacy(path, allow_any_global=False):
    """Returns the root object of a legacy (non-zip) torch.save stream."""
    with open(path, "rb") as f:
        magic = pickle.Unpickler(f).load()
        if magic != LEGACY_MAGIC:
            raise ValueError("not a legacy torch.save file (magic)")
        pickle.Unpickler(f).load()  # protocol version
        pickle.Unpickler(f).load()  # sys_info
        root = MetadataUnpickler(f, allow_any_global=allow_any_global).load()
    return root


def read(path, allow_any_global=False):
    """Returns (format, [(name, TensorRef)]) for a PyTorch file, names dotted.

    With `allow_any_global`, unknown classes (a whole pickled nn.Module) become
    inert stand-ins instead of an error; nothing from the file is ever called.
    """
    if zipfile.is_zipfile(path):
        fmt, _, root = read_zip(path, allow_any_global)
    else:
        fmt, root = "pytorch-legacy", read_legacy(path, allow_any_global)
    return fmt, [(".".join(p), t) for p, t in flatten(root)]


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 64
    path = argv[0]
    try:
        fmt, tensors = read(path, allow_any_global="--any-global" in argv[1:])
    except (pickle.UnpicklingError, ValueError, zipfile.BadZipFile, EOFError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    seen = set()
    elements = 0
    for _, t in tensors:
        key = (t.storage.key, t.offset, t.shape, t.dtype)
        if key not in seen:
            seen.add(key)
            elements += t.elements
    if "--list" in argv[1:]:
        for name, t in tensors:
            print(f"{name}\t{t.dtype}\t{list(t.shape)}\tstorage={t.storage.key}")
    print(f"{path}: {fmt}, {len(tensors)} tensors, {elements} elements")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
