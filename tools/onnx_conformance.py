#!/usr/bin/env python3
"""Compares `weightscope inspect --format json` with the onnx package on ONNX's own test models.

Runs the given weightscope binary over every `model.onnx` in the onnx package's backend test
data (`onnx/backend/test/data/**/model.onnx`) and compares the tensors it lists with what
`onnx.load` says the file holds. Every tensor counts, wherever it sits:

- graph initializers and sparse initializers (a sparse one has its dense `dims`, its values'
  data type, and the name of its values tensor);
- tensors held by `Constant` nodes (`value`, `sparse_value`, `value_float(s)`, `value_int(s)`,
  `value_string(s)`), named after the node's first output;
- tensor attributes of other nodes, named after the tensor, else `<node>.<attribute>`;
- all of the above inside subgraphs (any graph attribute, recursively), training_info graphs
  and model-local functions.

For each model the (name, shape, dtype) lists must be equal as multisets, and the number of
tensors must match. dtype is compared in weightscope's spelling (`float32`, `int64`, ...).

Usage:
  onnx_conformance.py --weightscope .build/release/weightscope
  onnx_conformance.py --dump expected.json      # only write what onnx reports, per model
"""

import argparse
import glob
import json
import os
import subprocess
import sys
from collections import Counter

import onnx
from onnx import AttributeProto, TensorProto

# TensorProto.DataType -> weightscope's DType spelling.
DTYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8_e4m3fn",
    18: "float8_e4m3fnuz", 19: "float8_e5m2", 20: "float8_e5m2fnuz", 21: "uint4", 22: "int4",
    23: "float4_e2m1", 24: "float8_e8m0fnu", 25: "uint2", 26: "int2", 27: "float6_e2m3",
    28: "float6_e3m2",
}

CONSTANT_SCALARS = {
    "value_float": "float32", "value_int": "int64", "value_string": "string",
}
CONSTANT_LISTS = {
    "value_floats": ("float32", "floats"), "value_ints": ("int64", "ints"),
    "value_strings": ("string", "strings"),
}


def section_for(path):
    if not path or path.startswith("function ") or path.startswith("training_info"):
        return path
    return "subgraph " + path


def join(section, part):
    return part if not section else f"{section}: {part}"


def dtype(data_type):
    return DTYPES.get(data_type, f"type {data_type}")


def tensor_entry(tensor, name, section):
    return {"name": name, "shape": list(tensor.dims), "dtype": dtype(tensor.data_type),
            "section": section}


def sparse_entry(sparse, name, section):
    return {"name": name, "shape": list(sparse.dims), "dtype": dtype(sparse.values.data_type),
            "section": section}


def walk_nodes(nodes, path, out):
    section = section_for(path)
    for k, node in enumerate(nodes):
        node_name = node.name or f"{node.op_type}_{k}"
        default_domain = node.domain in ("", "ai.onnx")
        if default_domain and node.op_type == "Constant":
            out_name = node.output[0] if node.output and node.output[0] else None
            part = join(section, "constant")
            for attr in node.attribute:
                if attr.HasField("t"):
                    out.append(tensor_entry(attr.t, out_name or attr.t.name, part))
                elif attr.HasField("sparse_tensor"):
                    out.append(sparse_entry(attr.sparse_tensor,
                                            out_name or attr.sparse_tensor.values.name, part))
                elif attr.name in CONSTANT_SCALARS:
                    out.append({"name": out_name or "", "shape": [],
                                "dtype": CONSTANT_SCALARS[attr.name], "section": part})
                elif attr.name in CONSTANT_LISTS:
                    kind, field = CONSTANT_LISTS[attr.name]
                    out.append({"name": out_name or "", "shape": [len(getattr(attr, field))],
                                "dtype": kind, "section": part})
        else:
            part = join(section, "attribute")
            for attr in node.attribute:
                if attr.HasField("t"):
                    out.append(tensor_entry(attr.t, attr.t.name or f"{node_name}.{attr.name}", part))
                for j, t in enumerate(attr.tensors):
                    out.append(tensor_entry(t, t.name or f"{node_name}.{attr.name}[{j}]", part))
                if attr.HasField("sparse_tensor"):
                    s = attr.sparse_tensor
                    out.append(sparse_entry(s, s.values.name or f"{node_name}.{attr.name}", part))
                for j, s in enumerate(attr.sparse_tensors):
                    out.append(sparse_entry(s, s.values.name or f"{node_name}.{attr.name}[{j}]",
                                            part))
        for attr in node.attribute:
            base = f"{node_name}/{attr.name}" if not path else f"{path}/{node_name}/{attr.name}"
            if attr.HasField("g"):
                walk_graph(attr.g, base, out)
            for j, g in enumerate(attr.graphs):
                walk_graph(g, f"{base}[{j}]", out)


def walk_graph(graph, path, out):
    section = section_for(path)
    for t in graph.initializer:
        out.append(tensor_entry(t, t.name, section))
    for s in graph.sparse_initializer:
        out.append(sparse_entry(s, s.values.name, section))
    walk_nodes(graph.node, path, out)


def expected_tensors(model):
    """Every tensor in the model, in weightscope's order, as onnx decodes it."""
    out = []
    walk_graph(model.graph, "", out)
    for t, info in enumerate(model.training_info):
        if info.HasField("initialization"):
            walk_graph(info.initialization, f"training_info[{t}]/initialization", out)
        if info.HasField("algorithm"):
            walk_graph(info.algorithm, f"training_info[{t}]/algorithm", out)
    for function in model.functions:
        name = f"{function.domain}.{function.name}" if function.domain else function.name
        walk_nodes(function.node, f"function {name}", out)
    return out


def backend_models():
    root = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    return sorted(glob.glob(os.path.join(root, "**", "model.onnx"), recursive=True))


def key(entry):
    return (entry["name"], tuple(entry["shape"]), entry["dtype"])


def compare(expected, actual):
    """A list of differences between two tensor lists (empty when they agree)."""
    want, got = Counter(map(key, expected)), Counter(map(key, actual))
    problems = []
    if len(expected) != len(actual):
        problems.append(f"{len(actual)} tensors, onnx has {len(expected)}")
    for item in sorted((want - got).keys(), key=str):
        problems.append(f"missing {item}")
    for item in sorted((got - want).keys(), key=str):
        problems.append(f"unexpected {item}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weightscope", help="the weightscope binary to check")
    parser.add_argument("--dump", help="write onnx's view of every model to this JSON file")
    parser.add_argument("models", nargs="*", help="models to check (default: backend test data)")
    args = parser.parse_args()
    models = args.models or backend_models()
    if not models:
        sys.exit("no models found")

    if args.dump:
        dump = {}
        for path in models:
            model = onnx.load(path, load_external_data=False)
            dump[os.path.abspath(path)] = expected_tensors(model)
        with open(args.dump, "w") as f:
            json.dump(dump, f, indent=1, sort_keys=True)
        print(f"wrote {len(dump)} models to {args.dump}")
        return
    if not args.weightscope:
        parser.error("--weightscope or --dump is required")

    passed, failures = 0, []
    for path in models:
        expected = expected_tensors(onnx.load(path, load_external_data=False))
        run = subprocess.run([args.weightscope, "inspect", "--format", "json", path],
                             capture_output=True, text=True)
        if run.returncode not in (0, 1):
            failures.append((path, [f"exit {run.returncode}: {run.stderr.strip()}"]))
            continue
        try:
            document = json.loads(run.stdout)
        except json.JSONDecodeError as error:
            failures.append((path, [f"output is not JSON: {error}"]))
            continue
        problems = compare(expected, document.get("tensors", []))
        if problems:
            failures.append((path, problems))
        else:
            passed += 1
    for path, problems in failures:
        print(f"FAIL {path}")
        for problem in problems[:10]:
            print(f"  {problem}")
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
