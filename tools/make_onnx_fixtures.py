#!/usr/bin/env python3
"""Writes the small ONNX models the ONNX reader's golden tests read.

Each `NAME.onnx` goes to Tests/WeightScopeONNXTests/Fixtures with `NAME.expected.json`: what
the onnx package reports for it (every tensor's name, dims, data type and section, the counts,
the graph inputs and outputs), computed with the same walk as tools/onnx_conformance.py.
Run with the tools venv: /work/main/.venv-tools/bin/python tools/make_onnx_fixtures.py
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import convert_model_to_external_data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_conformance import dtype, expected_tensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests",
                   "WeightScopeONNXTests", "Fixtures")
OPSET = [helper.make_opsetid("", 17)]
rng = np.random.default_rng(0)


def weights(name, *shape, kind=np.float32):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(kind), name)


def model(graph, **kwargs):
    kwargs.setdefault("opset_imports", OPSET)
    m = helper.make_model(graph, producer_name="make_onnx_fixtures", producer_version="1",
                          **kwargs)
    m.ir_version = 8
    return m


def checked(m):
    onnx.checker.check_model(m)
    return m


def conv_bn_gemm():
    """Conv + BatchNormalization + Flatten + Gemm, weights in raw_data."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])
    inits = [
        weights("conv.weight", 4, 3, 3, 3), weights("conv.bias", 4),
        weights("bn.weight", 4), weights("bn.bias", 4),
        weights("bn.running_mean", 4), numpy_helper.from_array(np.ones(4, np.float32), "bn.running_var"),
        weights("fc.weight", 10, 64), weights("fc.bias", 10),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], group=1),
        helper.make_node("BatchNormalization",
                         ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"],
                         ["b"], epsilon=1e-5),
        helper.make_node("Relu", ["b"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    return checked(model(helper.make_graph(nodes, "conv_bn_gemm", [x], [y], inits)))


def constant_node():
    """Weights held by Constant nodes (a tensor, a list of ints, a scalar float)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])
    nodes = [
        helper.make_node("Constant", [], ["w"], value=weights("", 2, 3)),
        helper.make_node("Constant", [], ["shape"], value_ints=[3, 2]),
        helper.make_node("Constant", [], ["alpha"], value_float=0.5),
        helper.make_node("Add", ["x", "w"], ["s"]),
        helper.make_node("Reshape", ["s", "shape"], ["r"]),
        helper.make_node("Mul", ["r", "alpha"], ["y"]),
    ]
    return checked(model(helper.make_graph(nodes, "constant_node", [x], [y])))


def subgraphs():
    """A Loop whose body and an If whose branches hold initializers and use an outer one."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    iters = numpy_helper.from_array(np.array(3, np.int64), "trip_count")
    outer = weights("outer.scale", 4)

    then_out = helper.make_tensor_value_info("then_y", TensorProto.FLOAT, [4])
    then_graph = helper.make_graph(
        [helper.make_node("Add", ["x", "then.bias"], ["then_y"])], "then", [], [then_out],
        [weights("then.bias", 4)])
    else_out = helper.make_tensor_value_info("else_y", TensorProto.FLOAT, [4])
    else_graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "outer.scale"], ["else_y"])], "else", [], [else_out])

    body_inputs = [
        helper.make_tensor_value_info("i", TensorProto.INT64, []),
        helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
        helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [4]),
    ]
    body_outputs = [
        helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
        helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [4]),
    ]
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["c_in"], ["c_out"]),
            helper.make_node("MatMul", ["acc_in", "body.weight"], ["m"]),
            helper.make_node("Add", ["m", "outer.scale"], ["acc_out"]),
        ],
        "body", body_inputs, body_outputs, [weights("body.weight", 4, 4)])
    nodes = [
        helper.make_node("If", ["cond"], ["branch"], then_branch=then_graph,
                         else_branch=else_graph),
        helper.make_node("Loop", ["trip_count", "", "branch"], ["y"], body=body),
    ]
    return checked(model(helper.make_graph(nodes, "subgraphs", [x, cond], [y], [iters, outer])))


def sparse():
    """A sparse initializer: 3 values in a dense [4, 5] matrix."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])
    values = numpy_helper.from_array(np.array([1.0, 2.0, 3.0], np.float32), "sparse.weight")
    indices = numpy_helper.from_array(np.array([0, 7, 19], np.int64), "sparse.indices")
    sparse_w = helper.make_sparse_tensor(values, indices, [4, 5])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "sparse.weight"], ["y"])],
                              "sparse", [x], [y], sparse_initializer=[sparse_w])
    return checked(model(graph))


def external():
    """Weights in a side file, external.bin, next to the model."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "ext.weight", "ext.bias"], ["y"], transB=1)],
        "external", [x], [y], [weights("ext.weight", 8, 16), weights("ext.bias", 8)])
    m = checked(model(graph))
    convert_model_to_external_data(m, all_tensors_to_one_file=True, location="external.bin",
                                   size_threshold=0)
    return m


def training():
    """training_info: an algorithm graph that updates fc.weight (not fc.bias) and a counter."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], transB=1)],
        "training", [x], [y], [weights("fc.weight", 2, 4), weights("fc.bias", 2)])
    step = numpy_helper.from_array(np.array(0, np.int64), "step")
    one = numpy_helper.from_array(np.array(1, np.int64), "one")
    lr = numpy_helper.from_array(np.array(0.01, np.float32), "lr")
    algorithm = helper.make_graph(
        [
            helper.make_node("Mul", ["fc.weight", "lr"], ["delta"]),
            helper.make_node("Sub", ["fc.weight", "delta"], ["fc.weight.new"]),
            helper.make_node("Add", ["step", "one"], ["step.new"]),
        ],
        "algorithm", [], [
            helper.make_tensor_value_info("fc.weight.new", TensorProto.FLOAT, [2, 4]),
            helper.make_tensor_value_info("step.new", TensorProto.INT64, []),
        ],
        [step, one, lr])
    info = helper.make_training_info(
        algorithm, [("fc.weight", "fc.weight.new"), ("step", "step.new")], None, [])
    m = model(graph)
    m.training_info.append(info)
    return checked(m)


def symbolic_batch():
    """A symbolic batch dim, typed-data weights, an int8 weight dequantized before MatMul,
    and a model-local function holding a Constant."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    w_q = helper.make_tensor("w.quantized", TensorProto.INT8, [8, 4],
                             rng.integers(-128, 127, 32).tolist())
    scale = helper.make_tensor("w.scale", TensorProto.FLOAT, [], [0.05])
    zero = helper.make_tensor("w.zero_point", TensorProto.INT8, [], [0])
    bias = helper.make_tensor("bias", TensorProto.FLOAT, [4], [0.1, 0.2, 0.3, 0.4])
    function = helper.make_function(
        "local", "AddBias", ["a", "b"], ["c"],
        [
            helper.make_node("Constant", [], ["half"], value_float=0.5),
            helper.make_node("Mul", ["b", "half"], ["hb"]),
            helper.make_node("Add", ["a", "hb"], ["c"]),
        ],
        OPSET)
    nodes = [
        helper.make_node("DequantizeLinear", ["w.quantized", "w.scale", "w.zero_point"], ["w"]),
        helper.make_node("MatMul", ["x", "w"], ["m"], name="matmul"),
        helper.make_node("AddBias", ["m", "bias"], ["y"], domain="local"),
    ]
    graph = helper.make_graph(nodes, "symbolic_batch", [x], [y], [w_q, scale, zero, bias])
    m = model(graph, opset_imports=OPSET + [helper.make_opsetid("local", 1)],
              functions=[function])
    helper.set_model_props(m, {"author": "weightscope", "license": "MIT"})
    return checked(m)


FIXTURES = {
    "conv_bn_gemm": conv_bn_gemm, "constant_node": constant_node, "subgraphs": subgraphs,
    "sparse": sparse, "external": external, "training": training,
    "symbolic_batch": symbolic_batch,
}


def describe_value(value):
    t = value.type.tensor_type
    dims = ",".join(d.dim_param if d.HasField("dim_param") else
                    str(d.dim_value) if d.HasField("dim_value") else "?" for d in t.shape.dim)
    shape = f"[{dims}]" if t.HasField("shape") else ""
    return f"{value.name}: {dtype(t.elem_type)}{shape}"


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, build in FIXTURES.items():
        m = build()
        path = os.path.join(OUT, f"{name}.onnx")
        onnx.save(m, path)
        loaded = onnx.load(path, load_external_data=False)
        tensors = expected_tensors(loaded)
        with open(path, "rb") as f:
            file_bytes = f.read()
        # Where each initializer's raw_data payload sits in the file.
        raw_offsets = {t.name: file_bytes.find(t.raw_data) for t in loaded.graph.initializer
                       if t.raw_data and file_bytes.count(t.raw_data) == 1}
        init_names = {t.name for t in loaded.graph.initializer}
        expected = {
            "ir_version": loaded.ir_version,
            "opsets": [[o.domain or "ai.onnx", o.version] for o in loaded.opset_import],
            "producer": f"{loaded.producer_name} {loaded.producer_version}",
            "graph": loaded.graph.name,
            "inputs": [describe_value(v) for v in loaded.graph.input if v.name not in init_names],
            "outputs": [describe_value(v) for v in loaded.graph.output],
            "tensors": tensors,
            "count": len(tensors),
            "raw_data_offsets": raw_offsets,
            "elements": int(sum(int(np.prod(t["shape"])) for t in tensors)),
            # onnx.proto: update_binding keys are the mutable initializers.
            "trainable": sorted({b.key for info in loaded.training_info
                                 for b in info.update_binding} & init_names)
            if loaded.training_info else None,
        }
        with open(os.path.join(OUT, f"{name}.expected.json"), "w") as f:
            json.dump(expected, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"{name}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
