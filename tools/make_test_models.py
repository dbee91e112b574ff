#!/usr/bin/env python3
"""Builds the weight files in TestModels/ and one `<file>.reference.json` for each.

Every model is built with real PyTorch (CPU, fixed seeds) and every number in a
reference is computed by torch or the onnx package, never written by hand.
Files that already exist are skipped unless --force is given; references are
rewritten from the files on disk each run, so re-running checks that they do
not change.

    /path/to/python tools/make_test_models.py [--out TestModels] [--force] [--only NAME...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import runpy
import sys
import tempfile
import warnings
from collections import OrderedDict

import onnx
import onnx.helper
import onnx.numpy_helper
import torch
import torchvision
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_python_reader as pyreader  # noqa: E402

warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def seed_cnn(out_dir):
    """The seed document's nn.Sequential, evaluated from TestModels/specs/seed_cnn.py.

    The listing is the document's verbatim, without imports: `nn` is given to it.
    """
    path = os.path.join(out_dir, "specs", "seed_cnn.py")
    return runpy.run_path(path, init_globals={"nn": nn})["model"]


def seed_cnn_changed():
    """The seed CNN with the second Linear narrowed: 1024->256 and then 256->10."""
    return nn.Sequential(
        nn.Conv2d(3, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, 2), nn.BatchNorm2d(64),
        nn.Conv2d(64, 128, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.Conv2d(128, 128, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, 2), nn.BatchNorm2d(128),
        nn.Conv2d(128, 256, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, 2), nn.BatchNorm2d(256),
        nn.Flatten(),
        nn.Linear(256 * 4 * 4, 1024), nn.ReLU(),
        nn.Linear(1024, 256), nn.ReLU(),
        nn.Linear(256, 10))


class SmallBNNet(nn.Module):
    """A small CNN with BatchNorm, used for all the checkpoint forms."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class TinyTiedLM(nn.Module):
    """A tiny language model whose output projection shares the embedding matrix."""

    def __init__(self, vocab=1000, dim=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.norm = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.embed.weight

    def forward(self, ids):
        return self.lm_head(self.norm(self.embed(ids)))


class IntBuffers(nn.Module):
    """Integer and bool buffers next to a Linear; one buffer is not persistent."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 16)
        self.register_buffer("position_ids", torch.arange(32, dtype=torch.int64).unsqueeze(0))
        self.register_buffer("causal_mask", torch.tril(torch.ones(8, 8, dtype=torch.bool)))
        self.register_buffer("step", torch.tensor(7, dtype=torch.int32))
        self.register_buffer("scratch", torch.zeros(4), persistent=False)

    def forward(self, x):
        return self.proj(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + idt)


class MiniResNet(nn.Module):
    """Nested names like layer1.0.conv1 and layer2.0.downsample.0."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 8, 1))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(x.mean((2, 3)))


class Conv1d3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1d = nn.Conv1d(4, 8, kernel_size=5, stride=2, padding=2, dilation=1)
        self.bn1d = nn.BatchNorm1d(8)
        self.conv3d = nn.Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 2, 2), padding=1)
        self.bn3d = nn.BatchNorm3d(4)
        self.fc = nn.Linear(12, 3)


class TinyEncoder(nn.Module):
    """Embedding + 2 nn.TransformerEncoderLayer (d_model 32) + classifier."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64,
                                           dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 5)

    def forward(self, ids):
        return self.head(self.encoder(self.embed(ids)))


class Recurrent(nn.Module):
    """A 2-layer bidirectional LSTM feeding a GRU."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=2, bidirectional=True,
                            batch_first=True)
        self.gru = nn.GRU(input_size=32, hidden_size=12, batch_first=True)
        self.head = nn.Linear(12, 4)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.head(y[:, -1])


class GroupedConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.grouped = nn.Conv2d(16, 32, 3, padding=1, groups=4)
        self.pointwise = nn.Conv2d(32, 24, 1, bias=False)
        self.depthwise_mult = nn.Conv2d(8, 16, 5, padding=2, groups=8, dilation=1)


class ConvTranspose(nn.Module):
    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.up_grouped = nn.ConvTranspose2d(8, 12, 4, stride=2, padding=1, groups=2,
                                             bias=False)
        self.up1d = nn.ConvTranspose1d(6, 3, 5, stride=3)


class Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(50, 8, padding_idx=0)
        self.bag = nn.EmbeddingBag(40, 6, mode="mean")
        self.bag_sum = nn.EmbeddingBag(30, 4, mode="sum", include_last_offset=True)


class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(16)
        self.ln_nobias = nn.LayerNorm([4, 4], bias=False)
        self.gn = nn.GroupNorm(4, 16)
        self.inorm = nn.InstanceNorm2d(16, affine=True, track_running_stats=True)
        self.inorm_plain = nn.InstanceNorm1d(8)  # owns nothing; not a layer
        self.rms = nn.RMSNorm(16)
        self.bn_noaffine = nn.BatchNorm1d(6, affine=False)


class PReLUBilinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.prelu_channels = nn.PReLU(num_parameters=8)
        self.prelu = nn.PReLU()
        self.bilinear = nn.Bilinear(6, 5, 4)
        self.bilinear_nobias = nn.Bilinear(3, 3, 2, bias=False)


class MHA(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim=16, num_heads=4, kdim=8, vdim=12,
                                          add_bias_kv=True, batch_first=True)
        self.self_attn = nn.MultiheadAttention(embed_dim=16, num_heads=2)


class FrozenBackbone(nn.Module):
    """A model with frozen parameters (requires_grad=False): non-trainable weights."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        for p in self.backbone.parameters():
            p.requires_grad_(False)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class NarrowResNet(torchvision.models.resnet.ResNet):
    """torchvision's ResNet-18 layout ([2,2,2,2] BasicBlocks) at 1/8 width."""

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, planes // 8, blocks, stride, dilate)


def narrow_resnet18():
    model = NarrowResNet(torchvision.models.resnet.BasicBlock, [2, 2, 2, 2], num_classes=10)
    model.fc = nn.Linear(512 // 8, 10)
    return model


def train_steps(model, make_input, steps=1, targets=10):
    """A few real SGD steps so that weights and running statistics move."""
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    model.train()
    for _ in range(steps):
        x = make_input()
        loss = nn.functional.cross_entropy(model(x), torch.randint(0, targets, (x.shape[0],)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


# ---------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------

HYPER_ATTRS = [
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
    "output_padding", "padding_mode", "transposed", "in_features", "out_features",
    "in1_features", "in2_features", "num_features", "eps", "momentum", "affine",
    "track_running_stats", "normalized_shape", "elementwise_affine", "num_groups",
    "num_channels", "num_embeddings", "embedding_dim", "padding_idx", "mode",
    "include_last_offset", "input_size", "hidden_size", "num_layers", "batch_first",
    "bidirectional", "proj_size", "embed_dim", "kdim", "vdim", "num_heads", "head_dim",
    "num_parameters", "bias",
]


def jsonable(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (tuple, list, torch.Size)):
        vals = [jsonable(x) for x in v]
        return None if any(x is _SKIP for x in vals) else vals
    return _SKIP


_SKIP = object()


def hyper(module):
    out = {}
    for a in HYPER_ATTRS:
        if not hasattr(module, a):
            continue
        v = getattr(module, a)
        if a == "bias" and not isinstance(v, bool):
            v = v is not None
        if a == "eps" and v is None:
            continue
        j = jsonable(v)
        if j is not _SKIP:
            out[a] = j
    if isinstance(module, nn.MultiheadAttention):
        out["add_bias_kv"] = module.bias_k is not None
        out["separate_qkv"] = not module._qkv_same_embed_dim
    return out


def dtype_name(dt):
    return str(dt).replace("torch.", "")


def tensor_bytes(t):
    return t.numel() * t.element_size()


def persistent_buffers(module):
    return [(n, b) for n, b in module.named_buffers(recurse=False)
            if b is not None and n not in module._non_persistent_buffers_set]


def packed_tensors(module, direct):
    """Tensors a module saves without owning them as parameters or buffers
    (quantized modules' packed weights, scale, zero_point)."""
    if direct:
        return []
    d = OrderedDict()
    module._save_to_state_dict(d, "", keep_vars=True)
    return flatten_loaded(d)


def model_layers(model, prefix=""):
    """Modules that directly own parameters or persistent buffers, in module order."""
    first_owner = {}
    layers = []
    for mname, m in model.named_modules():
        direct = [(n, p, "parameter") for n, p in m.named_parameters(recurse=False)]
        direct += [(n, b, "buffer") for n, b in persistent_buffers(m)]
        direct += [(n, t, "packed") for n, t in packed_tensors(m, direct)]
        if not direct:
            continue
        trainable = non_trainable = 0
        tensors, shared = [], {}
        for n, t, kind in direct:
            full = prefix + (f"{mname}.{n}" if mname else n)
            tensors.append(full)
            if id(t) in first_owner:
                shared[full] = first_owner[id(t)]
            else:
                first_owner[id(t)] = full
            if kind == "parameter" and t.requires_grad:
                trainable += t.numel()
            else:
                non_trainable += t.numel()
        layer = {"name": prefix + mname, "kind": type(m).__name__,
                 "class": f"{type(m).__module__}.{type(m).__qualname__}", "tensors": tensors,
                 "parameters": trainable + non_trainable, "trainable": trainable,
                 "non_trainable": non_trainable, "hyper": hyper(m)}
        if shared:
            layer["shared_with"] = shared
        layers.append(layer)
    return layers


def model_totals(model):
    """Trainable / non-trainable counts of a model (shared parameters once)."""
    params = list(model.parameters())  # deduplicated by torch
    trainable = sum(p.numel() for p in params if p.requires_grad)
    frozen = sum(p.numel() for p in params if not p.requires_grad)
    buffers, running, nbt = 0, 0, 0
    seen = set()
    for mname, m in model.named_modules():
        for n, b in persistent_buffers(m):
            if id(b) in seen:
                continue
            seen.add(id(b))
            buffers += b.numel()
            if n in ("running_mean", "running_var"):
                running += b.numel()
            if n == "num_batches_tracked":
                nbt += 1
    packed = sum(t.numel() for _, m in model.named_modules()
                 for _, t in packed_tensors(m, list(m.parameters(recurse=False)) +
                                            list(m.buffers(recurse=False))))
    totals = {"trainable": trainable, "non_trainable": frozen + buffers + packed,
              "frozen_parameters": frozen, "buffers": buffers,
              "running_stats": running, "num_batches_tracked": nbt}
    if packed:
        totals["quantized_packed"] = packed
    return totals


def flatten_loaded(obj, path=()):
    """(dotted name, tensor) for every tensor in a torch.load result."""
    out = []
    if isinstance(obj, torch.Tensor):
        out.append((".".join(path), obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += flatten_loaded(v, path + (str(k),))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out += flatten_loaded(v, path + (str(i),))
    return out


def file_tensors(path, loaded):
    """Tensor entries of a PyTorch file: storage keys from the file's pickle,
    names/shapes/dtypes cross-checked against what torch loaded."""
    fmt, refs = pyreader.read(path, allow_any_global=True)
    by_name = dict(loaded)
    if [n for n, _ in refs] != [n for n, _ in loaded]:
        raise SystemExit(f"{path}: tensor names differ between torch and the pickle reader:\n"
                         f"{[n for n, _ in refs]}\n{[n for n, _ in loaded]}")
    entries, first_by_key = [], {}
    for name, r in refs:
        t = by_name[name]
        dt = dtype_name(t.dtype)
        if dt != r.dtype or list(t.shape) != list(r.shape):
            raise SystemExit(f"{path}: {name}: torch {dt}{list(t.shape)} vs reader "
                             f"{r.dtype}{list(r.shape)}")
        e = {"name": name, "shape": list(t.shape), "dtype": dt, "elements": t.numel(),
             "bytes": tensor_bytes(t), "storage_key": r.storage.key}
        if r.offset:
            e["storage_offset"] = r.offset
        if list(r.stride) != list(t.stride()):
            raise SystemExit(f"{path}: {name}: stride mismatch")
        if r.is_parameter:
            e["parameter"] = True
        if t.is_quantized:
            e["quantized"] = str(t.qscheme()).replace("torch.", "")
        key = r.storage.key
        if key in first_by_key:
            e["shared_with"] = first_by_key[key]
        else:
            first_by_key[key] = name
        entries.append(e)
    return fmt, entries


def tensor_totals(entries):
    seen = set()
    elements = nbytes = 0
    for e in entries:
        key = (e.get("storage_key"), e.get("storage_offset", 0), tuple(e["shape"]), e["dtype"])
        if "shared_with" in e and key in seen:
            continue
        seen.add(key)
        elements += e["elements"]
        nbytes += e["bytes"]
    return {"tensors": len(entries), "elements": elements, "bytes": nbytes}


def versions():
    return {"torch": torch.__version__, "onnx": onnx.__version__,
            "torchvision": torchvision.__version__}


def write_json(path, obj):
    text = json.dumps(obj, indent=1) + "\n"
    old = open(path).read() if os.path.exists(path) else None
    with open(path, "w") as f:
        f.write(text)
    return old is not None and old != text


# ---------------------------------------------------------------------------
# ONNX references
# ---------------------------------------------------------------------------

ONNX_TO_TORCH = {
    "FLOAT": "float32", "DOUBLE": "float64", "FLOAT16": "float16", "BFLOAT16": "bfloat16",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64", "UINT8": "uint8",
    "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64", "BOOL": "bool",
    "COMPLEX64": "complex64", "COMPLEX128": "complex128", "FLOAT8E4M3FN": "float8_e4m3fn",
    "FLOAT8E4M3FNUZ": "float8_e4m3fnuz", "FLOAT8E5M2": "float8_e5m2",
    "FLOAT8E5M2FNUZ": "float8_e5m2fnuz", "STRING": "string",
}


def onnx_tensor_entry(t):
    dt_name = onnx.TensorProto.DataType.Name(t.data_type)
    n = 1
    for d in t.dims:
        n *= d
    itemsize = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    e = {"name": t.name, "shape": list(t.dims), "dtype": ONNX_TO_TORCH.get(dt_name, dt_name),
         "elements": n, "bytes": n * itemsize}
    return e, dt_name


def onnx_reference(path, model_for_counts=None, note=None):
    m = onnx.load(path, load_external_data=False)
    inits, tensors = [], []
    for t in m.graph.initializer:
        e, dt_name = onnx_tensor_entry(t)
        i = {"name": t.name, "dims": list(t.dims), "data_type": dt_name}
        if t.data_location == onnx.TensorProto.EXTERNAL:
            i["external_data"] = {kv.key: kv.value for kv in t.external_data}
        inits.append(i)
        tensors.append(e)
    consts = []
    for node in m.graph.node:
        if node.op_type != "Constant":
            continue
        for a in node.attribute:
            c = {"node": node.name, "output": node.output[0], "attribute": a.name}
            if a.name == "value":
                e, dt_name = onnx_tensor_entry(a.t)
                c.update({"dims": list(a.t.dims), "data_type": dt_name,
                          "elements": e["elements"], "bytes": e["bytes"]})
            elif a.name in ("value_float", "value_int"):
                c.update({"dims": [], "elements": 1})
            elif a.name in ("value_floats", "value_ints"):
                c.update({"dims": [len(a.floats) + len(a.ints)],
                          "elements": len(a.floats) + len(a.ints)})
            consts.append(c)
    ops = OrderedDict()
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    uses = []
    for node in m.graph.node:
        init_names = {i["name"] for i in inits}
        used = [(k, x) for k, x in enumerate(node.input) if x in init_names]
        if used:
            uses.append({"node": node.name, "op_type": node.op_type,
                         "initializer_inputs": {str(k): x for k, x in used}})
    totals = tensor_totals(tensors)
    totals["initializers"] = len(inits)
    totals["constant_nodes"] = len(consts)
    totals["constant_elements"] = sum(c.get("elements", 0) for c in consts)
    ref = {"file": os.path.basename(path), "format": "onnx", "versions": versions(),
           "ir_version": m.ir_version,
           "opset": {(o.domain or "ai.onnx"): o.version for o in m.opset_import},
           "producer": {"name": m.producer_name, "version": m.producer_version},
           "graph_inputs": [i.name for i in m.graph.input],
           "op_types": ops, "tensors": tensors, "initializers": inits,
           "constant_nodes": consts, "initializer_uses": uses, "totals": totals}
    if model_for_counts is not None:
        ref["torch_totals"] = model_totals(model_for_counts)
        ref["layers"] = model_layers(model_for_counts)
    if note:
        ref["note"] = note
    return ref


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------


class Builder:
    def __init__(self, out_dir, force, only):
        self.out, self.force, self.only = out_dir, force, only
        self.changed = []
        self.readme = []

    def path(self, name):
        return os.path.join(self.out, name)

    def wanted(self, name):
        return not self.only or any(o in name for o in self.only)

    def needs(self, name):
        return self.force or not os.path.exists(self.path(name))

    def reference(self, name, ref):
        if write_json(self.path(name + ".reference.json"), ref):
            self.changed.append(name)

    def describe(self, name, text):
        self.readme.append((name, text))

    def pytorch(self, name, model, obj_fn, describe, fmt_expect, weights_section=None,
                name_prefix="", save=None, load=None, extra=None):
        """Saves obj_fn() with torch.save (or `save`) and writes its reference."""
        self.describe(name, describe)
        if not self.wanted(name):
            return
        p = self.path(name)
        if self.needs(name):
            torch.manual_seed(0)
            (save or torch.save)(obj_fn(), p)
        loaded = load(p) if load else torch.load(p, weights_only=True)
        fmt, entries = file_tensors(p, flatten_loaded(loaded))
        if fmt != fmt_expect:
            raise SystemExit(f"{name}: format {fmt}, expected {fmt_expect}")
        mt = model_totals(model) if model is not None else {}
        totals = tensor_totals(entries)
        totals.update(mt)
        ref = {"file": name, "format": fmt, "versions": versions(), "tensors": entries,
               "totals": totals}
        if model is not None:
            ref["layers"] = model_layers(model, prefix=name_prefix)
        if weights_section is not None:
            ref["weights_section"] = weights_section
        if name_prefix:
            ref["name_prefix"] = name_prefix
        if extra:
            ref.update(extra(entries) if callable(extra) else extra)
        self.reference(name, ref)

    def onnx_file(self, name, describe, make, ref_fn):
        self.describe(name, describe)
        if not self.wanted(name):
            return
        p = self.path(name)
        if self.needs(name):
            make(p)
        self.reference(name, ref_fn(p))


def export_torchscript_onnx(model, args, path, **kw):
    torch.onnx.export(model, args, path, dynamo=False, opset_version=17,
                      do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE, **kw)


def build_all(b: Builder):
    tv = f"torch {torch.__version__}"
    ov = f"onnx {onnx.__version__}"

    # 1-3, 7: the seed CNN -------------------------------------------------
    torch.manual_seed(0)
    seed = train_steps(seed_cnn(b.out), lambda: torch.randn(4, 3, 32, 32), steps=2)
    b.pytorch("seed_cnn.pt", seed, lambda: seed.state_dict(),
              f"seed CNN (TestModels/specs/seed_cnn.py) state_dict after 2 SGD steps; torch.save, {tv}",
              "pytorch-zip")

    def make_seed_onnx(p):
        export_torchscript_onnx(seed, (torch.randn(1, 3, 32, 32),), p,
                                input_names=["input"], output_names=["logits"])
        m = onnx.load(p)
        bns = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
        init_names = {i.name for i in m.graph.initializer}
        assert len(bns) == 3 and all(x in init_names for n in bns for x in n.input[1:]), \
            "BatchNormalization inputs must stay initializers"

    note = ("TorchScript exporter (dynamo=False), opset 17, eval mode, do_constant_folding=False, "
            "training=PRESERVE: BatchNormalization keeps scale/B/mean/var initializers; "
            "num_batches_tracked is not exported.")
    b.onnx_file("seed_cnn.onnx", f"seed CNN, torch.onnx.export(dynamo=False) opset 17; {tv}, {ov}",
                make_seed_onnx, lambda p: onnx_reference(p, seed, note))

    def make_seed_external(p):
        src = b.path("seed_cnn.onnx")
        m = onnx.load(src)
        loc = os.path.basename(p) + ".data"
        # onnx refuses to overwrite the data file and resolves it against the cwd.
        with tempfile.TemporaryDirectory() as d:
            tmp = os.path.join(d, os.path.basename(p))
            cwd = os.getcwd()
            os.chdir(d)
            try:
                onnx.save_model(m, tmp, save_as_external_data=True,
                                all_tensors_to_one_file=True, location=loc, size_threshold=0)
            finally:
                os.chdir(cwd)
            os.replace(os.path.join(d, loc), p + ".data")
            os.replace(tmp, p)
    b.onnx_file("seed_cnn_external.onnx",
                f"seed_cnn.onnx re-saved with all initializers in seed_cnn_external.onnx.data "
                f"(onnx.save_model size_threshold=0); {ov}",
                make_seed_external,
                lambda p: onnx_reference(p, seed, "external data: seed_cnn_external.onnx.data"))
    b.describe("seed_cnn_external.onnx.data", "raw initializer bytes of seed_cnn_external.onnx")

    torch.manual_seed(1)
    changed = train_steps(seed_cnn_changed(), lambda: torch.randn(4, 3, 32, 32))
    b.pytorch("seed_cnn_changed.pt", changed, lambda: changed.state_dict(),
              f"seed CNN with layer 21 changed to Linear(1024,256) and 23 to Linear(256,10); {tv}",
              "pytorch-zip")

    # 4: small state dicts -------------------------------------------------
    def sd_file(name, make_model, what, input_fn=None, targets=10, dtype=None):
        torch.manual_seed(sum(map(ord, name)))
        model = make_model()
        if input_fn is not None:
            train_steps(model, input_fn, targets=targets)
        if dtype is not None:
            model = model.to(dtype)
        b.pytorch(name, model, lambda: model.state_dict(), f"{what}; {tv}", "pytorch-zip")
        return model

    sd_file("tied_lm.pt", TinyTiedLM,
            "tiny LM, Embedding(1000,64) tied to lm_head Linear (same storage, two names)")
    small = sd_file("small_bn.pt", SmallBNNet, "SmallBNNet state_dict after one SGD step",
                    lambda: torch.randn(4, 3, 16, 16))
    sd_file("small_bn_fp16.pt", SmallBNNet, "SmallBNNet in float16 (.half())",
            lambda: torch.randn(4, 3, 16, 16), dtype=torch.float16)
    sd_file("small_bn_bf16.pt", SmallBNNet, "SmallBNNet in bfloat16",
            lambda: torch.randn(4, 3, 16, 16), dtype=torch.bfloat16)
    sd_file("int_buffers.pt", IntBuffers,
            "Linear + int64/bool/int32 buffers (+ a non-persistent buffer not saved)")
    sd_file("mini_resnet.pt", MiniResNet,
            "mini ResNet: layer1.0.conv1, layer2.0.downsample.0/1 nested names",
            lambda: torch.randn(2, 3, 16, 16))
    sd_file("conv1d_conv3d.pt", Conv1d3d, "Conv1d+BatchNorm1d, Conv3d+BatchNorm3d, Linear")
    encoder = sd_file("transformer_encoder.pt", TinyEncoder,
                      "Embedding + 2x nn.TransformerEncoderLayer(d_model=32, nhead=4) + Linear")
    rnn = sd_file("rnn.pt", Recurrent, "LSTM(8,16,num_layers=2,bidirectional) + GRU(32,12) + Linear")
    sd_file("resnet18_narrow.pt", narrow_resnet18,
            "torchvision ResNet(BasicBlock,[2,2,2,2]) at 1/8 width, weights=None")
    sd_file("mobilenet_v3_small_025.pt",
            lambda: torchvision.models.mobilenet_v3_small(weights=None, width_mult=0.25,
                                                          num_classes=10),
            f"torchvision mobilenet_v3_small(width_mult=0.25, num_classes=10), weights=None, "
            f"torchvision {torchvision.__version__}")
    sd_file("grouped_conv.pt", GroupedConv, "depthwise, grouped and pointwise Conv2d")
    sd_file("conv_transpose.pt", ConvTranspose, "ConvTranspose2d (plain, grouped) and ConvTranspose1d")
    sd_file("embeddings.pt", Embeddings, "Embedding(padding_idx) and EmbeddingBag (mean, sum)")
    sd_file("norms.pt", Norms,
            "LayerNorm (with/without bias), GroupNorm, InstanceNorm2d(affine, running stats), "
            "RMSNorm, BatchNorm1d(affine=False)")
    sd_file("prelu_bilinear.pt", PReLUBilinear, "PReLU (8 and 1 parameters), Bilinear with/without bias")
    sd_file("mha_kdim_vdim.pt", MHA,
            "MultiheadAttention with kdim/vdim and add_bias_kv, and a plain self-attention one")
    sd_file("frozen_backbone.pt", FrozenBackbone,
            "Linear with requires_grad=False (frozen: non-trainable) + trainable head")

    # 5: ONNX exports ------------------------------------------------------
    def make_encoder_onnx(p):
        export_torchscript_onnx(encoder, (torch.randint(0, 100, (1, 6)),), p,
                                input_names=["ids"], output_names=["logits"])
    b.onnx_file("transformer_encoder.onnx",
                f"TinyEncoder (transformer_encoder.pt), torch.onnx.export(dynamo=False) opset 17; "
                f"{tv}, {ov}", make_encoder_onnx, lambda p: onnx_reference(p, encoder))

    def make_rnn_onnx(p):
        export_torchscript_onnx(rnn, (torch.randn(1, 5, 8),), p,
                                input_names=["x"], output_names=["y"])
    b.onnx_file("rnn.onnx",
                f"Recurrent (rnn.pt), torch.onnx.export(dynamo=False) opset 17: initializers keep "
                f"the PyTorch names; Slice/Concat nodes re-pack them into ONNX LSTM/GRU W, R, B; "
                f"{tv}, {ov}",
                make_rnn_onnx,
                lambda p: onnx_reference(p, rnn, "initializers keep PyTorch LSTM/GRU names; the "
                                                 "graph re-packs them with Slice/Concat into the "
                                                 "W, R, B inputs of ONNX LSTM/GRU; zero initial "
                                                 "states are Constant nodes"))

    torch.manual_seed(5)
    mlp = MLP()

    def make_constant_onnx(p):
        h = onnx.helper
        nodes, k = [], 0
        for lname in ("fc1", "fc2"):
            lin = getattr(mlp, lname)
            for pname in ("weight", "bias"):
                arr = getattr(lin, pname).detach().numpy()
                nodes.append(h.make_node("Constant", [], [f"{lname}.{pname}"],
                                         name=f"const_{lname}_{pname}",
                                         value=onnx.numpy_helper.from_array(arr, f"{lname}.{pname}")))
        nodes.append(h.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name="gemm1",
                                 transB=1))
        nodes.append(h.make_node("Relu", ["h"], ["hr"], name="relu"))
        nodes.append(h.make_node("Constant", [], ["shape"], name="const_shape",
                                 value=onnx.numpy_helper.from_array(
                                     __import__("numpy").array([1, 32], dtype="int64"), "shape")))
        nodes.append(h.make_node("Reshape", ["hr", "shape"], ["hr2"], name="reshape"))
        nodes.append(h.make_node("Gemm", ["hr2", "fc2.weight", "fc2.bias"], ["y"], name="gemm2",
                                 transB=1))
        graph = h.make_graph(nodes, "mlp_constants",
                             [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 16])],
                             [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])])
        m = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)],
                         producer_name="make_test_models")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, p)
    b.onnx_file("constant_weights.onnx",
                f"MLP 16->32->4 whose weights are Constant nodes (onnx.helper), plus an int64 "
                f"shape Constant; no initializers; {ov}",
                make_constant_onnx,
                lambda p: onnx_reference(p, mlp, "weights are Constant nodes; 'shape' is a "
                                                 "non-weight int64 constant"))

    # 6: real-world forms of SmallBNNet -------------------------------------
    torch.manual_seed(11)
    net = SmallBNNet()
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(adam, step_size=10, gamma=0.5)
    net.train()
    x = torch.randn(4, 3, 16, 16)
    loss = nn.functional.cross_entropy(net(x), torch.randint(0, 10, (4,)))
    adam.zero_grad()
    loss.backward()
    adam.step()
    sched.step()
    net.eval()

    def ckpt():
        return {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.4.0",
                "state_dict": net.state_dict(), "loops": {"fit_loop": {"epoch_progress": 3}},
                "callbacks": {}, "optimizer_states": [adam.state_dict()],
                "lr_schedulers": [sched.state_dict()],
                "hyper_parameters": {"lr": 1e-3, "width": 8, "classes": 10,
                                     "name": "SmallBNNet"}}

    def ckpt_extra(entries):
        opt = [e for e in entries if e["name"].startswith("optimizer_states.")]
        return {"optimizer": {"section": "optimizer_states.0", "kind": "Adam",
                              "tensors": [{"name": e["name"], "shape": e["shape"],
                                           "elements": e["elements"]} for e in opt],
                              "elements": sum(e["elements"] for e in opt)},
                "sections": sorted({e["name"].split(".")[0] for e in entries})}
    b.pytorch("small_bn.ckpt", net, ckpt,
              f"Lightning-style checkpoint of SmallBNNet: state_dict, optimizer_states "
              f"(Adam after one step), lr_schedulers, hyper_parameters; {tv}",
              "pytorch-zip", weights_section="state_dict", name_prefix="state_dict.",
              extra=ckpt_extra)

    def train_ckpt():
        return {"epoch": 3, "global_step": 120, "model": net.state_dict(),
                "optimizer": adam.state_dict(), "lr_scheduler": sched.state_dict(),
                "loss": 0.25, "hyper_parameters": {"lr": 1e-3, "batch_size": 4}}

    def train_ckpt_extra(entries):
        opt = [e for e in entries if e["name"].startswith("optimizer.")]
        return {"optimizer": {"section": "optimizer", "kind": "Adam",
                              "tensors": [{"name": e["name"], "shape": e["shape"],
                                           "elements": e["elements"]} for e in opt],
                              "elements": sum(e["elements"] for e in opt)},
                "sections": sorted({e["name"].split(".")[0] for e in entries})}
    b.pytorch("small_bn_train.pt", net, train_ckpt,
              f"hand-written training checkpoint of SmallBNNet: model, optimizer (Adam after "
              f"one step), lr_scheduler, epoch, loss; {tv}",
              "pytorch-zip", weights_section="model", name_prefix="model.",
              extra=train_ckpt_extra)

    def make_small_dynamo(p):
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            torch.onnx.export(net, (torch.randn(1, 3, 16, 16),), p, dynamo=True,
                              opset_version=18, external_data=False)
    b.onnx_file("small_bn_dynamo.onnx",
                f"SmallBNNet, torch.onnx.export(dynamo=True) opset 18, inline data: the "
                f"torch.export-based exporter folds eval BatchNorm into the Conv before it "
                f"(bn1/bn2 vanish, conv2 gains 'conv2.weight_bias') and adds val_N shape "
                f"initializers; {tv}, {ov}",
                make_small_dynamo,
                lambda p: onnx_reference(p, net, "dynamo exporter (optimize=True) folded both "
                                                 "BatchNorm2d into the Conv2d before them, so "
                                                 "ONNX counts differ from torch_totals; val_N "
                                                 "initializers are shape constants, not weights"))

    b.pytorch("small_bn_ddp.pt", net, lambda: ddp_state_dict(net),
              f"SmallBNNet state_dict from DistributedDataParallel (module. prefix); {tv}",
              "pytorch-zip", name_prefix="module.")
    b.pytorch("small_bn_compiled.pt", net,
              lambda: torch.compile(net, backend="eager").state_dict(),
              f"SmallBNNet state_dict of torch.compile(model) (_orig_mod. prefix); {tv}",
              "pytorch-zip", name_prefix="_orig_mod.")
    b.pytorch("small_bn_module.pt", net, lambda: net,
              f"whole pickled module torch.save(model) (class __main__.SmallBNNet); {tv}",
              "pytorch-zip", load=lambda p: torch.load(p, weights_only=False).state_dict(),
              extra={"pickled_classes_note": "pickle references __main__.SmallBNNet and "
                                             "torch.nn.modules.* classes"})
    b.pytorch("small_bn_torchscript.pt", net, lambda: torch.jit.script(net),
              f"TorchScript archive torch.jit.save(torch.jit.script(model)); {tv}",
              "torchscript", save=lambda obj, p: torch.jit.save(obj, p),
              load=lambda p: torch.jit.load(p).state_dict())
    b.pytorch("small_bn_legacy.pt", net, lambda: net.state_dict(),
              f"legacy (non-zip) torch.save(_use_new_zipfile_serialization=False); {tv}",
              "pytorch-legacy",
              save=lambda obj, p: torch.save(obj, p, _use_new_zipfile_serialization=False))

    torch.manual_seed(12)
    qmodel = torch.ao.quantization.quantize_dynamic(MLP().eval(), {nn.Linear}, dtype=torch.qint8)
    b.pytorch("mlp_qdynamic.pt", qmodel, lambda: qmodel.state_dict(),
              f"MLP after torch.ao.quantization.quantize_dynamic(Linear, qint8): packed params "
              f"(qint8 weight + float bias), scale, zero_point, dtype; {tv}", "pytorch-zip")

    b.pytorch("all_dtypes.pt", None, all_dtypes,
              f"one 2x3 tensor of each common dtype (float64..bool, float8, complex, uint16-64); "
              f"{tv}", "pytorch-zip")
    b.pytorch("exotic_dtypes.pt", None, exotic_dtypes,
              f"zero tensors of rarely seen dtypes torch.save accepts: float4_e2m1fn_x2 (2 values "
              f"per element), bits8, bits16; {tv}", "pytorch-zip")


def ddp_state_dict(model):
    """state_dict of a real single-process DistributedDataParallel wrapper."""
    import torch.distributed as dist
    with tempfile.TemporaryDirectory() as d:
        store = dist.FileStore(os.path.join(d, "store"), 1)
        dist.init_process_group("gloo", store=store, rank=0, world_size=1)
        try:
            sd = nn.parallel.DistributedDataParallel(model).state_dict()
        finally:
            dist.destroy_process_group()
    return sd


ALL_DTYPES = ["float64", "float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2",
              "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "complex32",
              "complex64", "complex128", "int8", "int16", "int32", "int64", "uint8", "uint16",
              "uint32", "uint64", "bool"]


def all_dtypes():
    sd = OrderedDict()
    for name in ALL_DTYPES:
        dt = getattr(torch, name)
        sd[f"t_{name}"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).to(dt)
    return sd


def exotic_dtypes():
    return OrderedDict((f"t_{n}", torch.zeros(2, 3, dtype=getattr(torch, n)))
                       for n in ("float4_e2m1fn_x2", "bits8", "bits16"))


SEED_CNN_PY = '''"""The seed document's model (cnn-parameter-counting.md), verbatim."""
import torch
from torch import nn

'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "TestModels"))
    ap.add_argument("--force", action="store_true", help="rebuild files that exist")
    ap.add_argument("--only", nargs="*", help="only files whose name contains one of these")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    seed_py = os.path.join(a.out, "specs", "seed_cnn.py")
    if not os.path.exists(seed_py):
        raise SystemExit(f"{seed_py} is missing (the seed listing, copied verbatim)")
    b = Builder(a.out, a.force, a.only)
    build_all(b)
    write_readme(b)
    for name in b.changed:
        print(f"reference changed: {name}.reference.json")
    print(f"{len(b.readme)} files described; {len(b.changed)} references changed")


FORMAT_NOTES = [
    "torch.save zip: pickle protocol 2; every entry under one top folder named after the file "
    "stem (`seed_cnn/data.pkl`, `seed_cnn/data/0`), not `archive/`; entries stored "
    "uncompressed; tensor data 64-byte aligned (`.storage_alignment` = 64, local-header "
    "extra padding); also `.format_version` (1), `byteorder` (little), `version`, "
    "`.data/serialization_id`. Every zip (even 10 KB ones) ends with a Zip64 end record + "
    "locator before the classic end record, whose fields hold the real values.",
    "Classic dtypes are pickled as `torch._utils._rebuild_tensor_v2` with typed storage "
    "globals (`torch FloatStorage`, `BFloat16Storage`, `LongStorage`, `BoolStorage`, ...); "
    "float8_*, uint16/32/64, complex32, float4_e2m1fn_x2 and bits* use `_rebuild_tensor_v3` "
    "with `torch.storage UntypedStorage` and a `torch <dtype>` global, and the persistent "
    "id's size is then in BYTES, not elements.",
    "Persistent id: ('storage', storage type, key, 'cpu', size); keys are '0', '1', ... in "
    "first-use order; tied tensors reuse the key. Legacy files use decimal memory addresses "
    "as keys (they change on every save) and a 6th view-metadata field.",
    "TorchScript archives: `data/` entries come before `data.pkl`; `code/` sources and "
    "`.debug_pkl` are DEFLATE-compressed; `constants.pkl`; no `.format_version`; the "
    "data.pkl builds `__torch__.*` objects (NEWOBJ + BUILD with attribute dicts) and uses "
    "`torch.jit._pickle build_intlist`.",
    "A whole pickled module references `__main__.<Class>`, `torch.nn.modules.*` classes, "
    "`__builtin__ set` and `torch._utils _rebuild_parameter`; tensors sit under "
    "`_modules` / `_parameters` / `_buffers` dicts.",
    "quantize_dynamic: `_rebuild_qtensor` with `QInt8Storage` and a `torch per_tensor_affine` "
    "global; the bias is a pickled Parameter inside the `_packed_params` tuple; "
    "`_packed_params.dtype` is a bare `torch qint8` global, not a tensor.",
    "ONNX, TorchScript exporter (dynamo=False): still present, warns it is deprecated; keeps "
    "state_dict names; de-duplicates initializers with identical values (an untrained "
    "BatchNorm's running_mean/var become Identity outputs of its bias/weight), so the models "
    "here take real SGD steps first; num_batches_tracked is not exported.",
    "ONNX, dynamo exporter (default): implements opset >= 18 and converts down when asked for "
    "17; ir_version 10; graph inputs named after forward()'s arguments; adds `val_N` shape "
    "initializers; with "
    "optimize=True folds an eval BatchNorm into the Conv before it (new `<conv>.weight_bias` "
    "initializer); writes large models with external data by default.",
]


def write_readme(b):
    lines = ["# Test models", "",
             "Built by `tools/make_test_models.py` with real PyTorch on CPU (fixed seeds). "
             "Each weight file has a `<file>.reference.json` computed by torch / onnx "
             "(tensor names, shapes, dtypes, storage keys, layer kinds and hyperparameters, "
             "trainable / non-trainable totals). Versions are recorded in each reference.", "",
             "| file | what it is, how it was made |", "| --- | --- |",
             "| specs/seed_cnn.py | the seed document's nn.Sequential listing, verbatim |"]
    for name, text in b.readme:
        lines.append(f"| {name} | {text} |")
    lines += ["", "## What these files show about the formats (torch 2.15, onnx 1.23)", ""]
    lines += [f"- {n}" for n in FORMAT_NOTES]
    with open(os.path.join(b.out, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
