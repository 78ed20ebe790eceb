#!/usr/bin/env python3
"""ONNX test models and their onnxruntime reference outputs, for superres's ONNX importer tests.

No PyTorch: the graphs are written with the `onnx` package the way torch.onnx.export writes them (dynamic height
and width, shape arithmetic from Shape/Gather/Concat, the Reshape/Transpose/Reshape pixel shuffle, SiLU as
Sigmoid + Mul, nearest upsampling by computed sizes, fp16 weights behind Cast nodes, external data).

  real networks  the weights of SPAN x4 (span-ch48-x4), Real-ESRGAN animevideov3 x4 (SRVGG Compact) and
                 Real-ESRGAN x4plus (RRDB), read from the ncnn .param/.bin files the catalogue pulls, as ONNX graphs;
                 animevideov3 also with float16 initializers, x4plus with its weights in an external data file.
  operators      small graphs with seeded random weights, one per group of operators the importer reads.
  hostile        an unsupported operator, a truncated file, an initializer claiming 2^40 elements, an export
                 fixed at 64x64.

Each model is run by onnxruntime (CPU, 2 threads) on a crop of a Set14 picture (RGB / 255, NCHW float32); inputs
and outputs are written as little-endian float32 files beside manifest.json.

    python3 -m venv .build/onnx-venv && .build/onnx-venv/bin/pip install onnx onnxruntime numpy pillow
    .build/onnx-venv/bin/python tools/onnx_models.py --store .build/test-models --shared ../shared \\
        --out .build/test-models/onnx-fixtures
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


# ---------------------------------------------------------------------------------------------------------------------
# ncnn files


def read_param(path):
    """The layers of an ncnn .param: (type, name, inputs, outputs, {key: value})."""
    with open(path) as f:
        lines = [line.split() for line in f if line.strip()]
    layers = []
    for parts in lines[2:]:
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        inputs = parts[4:4 + n_in]
        outputs = parts[4 + n_in:4 + n_in + n_out]
        params = {}
        for item in parts[4 + n_in + n_out:]:
            key, value = item.split("=", 1)
            key = int(key)
            if key <= -23300:
                values = value.split(",")[1:]
                params[-key - 23300] = [float(v) for v in values]
            else:
                params[key] = float(value) if ("." in value or "e" in value) else int(value)
        layers.append((kind, name, inputs, outputs, params))
    return layers


class Weights:
    """Reads an ncnn .bin in layer order, as ncnn's ModelBinFromDataReader does."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.offset = 0

    def raw(self, count):
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.offset).copy()
        self.offset += 4 * count
        return values

    def tagged(self, count):
        (tag,) = struct.unpack_from("<I", self.data, self.offset)
        self.offset += 4
        if tag == 0x01306B47:
            values = np.frombuffer(self.data, dtype="<f2", count=count, offset=self.offset).astype(np.float32)
            self.offset += (2 * count + 3) // 4 * 4
            return values
        if tag in (0, 0x0002C056):
            return self.raw(count)
        raise SystemExit(f"unsupported ncnn weight tag {tag:#x}")


class GraphWriter:
    """Collects nodes and initializers with unique names."""

    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        name = self.name(base)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base=None, outputs=1, **attrs):
        names = [self.name(base or op) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, names, name=names[0], **attrs))
        return names[0] if outputs == 1 else names

    def shape_dims(self, x):
        """N, C, H, W of x as 1-element int64 tensors (Shape, Gather, Unsqueeze as torch writes them)."""
        shape = self.node("Shape", [x])
        dims = []
        for axis in range(4):
            scalar = self.node("Gather", [shape, self.const("index", np.array(axis, dtype=np.int64))], axis=0)
            dims.append(self.node("Unsqueeze", [scalar, self.const("axes", np.array([0], dtype=np.int64))]))
        return dims

    def pixel_shuffle_reshape(self, x, r):
        """PixelShuffle(r) as Reshape/Transpose/Reshape with targets computed from Shape (dynamic axes)."""
        n, c, h, w = self.shape_dims(x)
        rr = self.const("rr", np.array([r * r], dtype=np.int64))
        rc = self.const("r", np.array([r], dtype=np.int64))
        oc = self.node("Div", [c, rr])
        six = self.node("Concat", [n, oc, rc, rc, h, w], axis=0)
        folded = self.node("Reshape", [x, six])
        moved = self.node("Transpose", [folded], perm=[0, 1, 4, 2, 5, 3])
        four = self.node("Concat", [n, oc, self.node("Mul", [h, rc]), self.node("Mul", [w, rc])], axis=0)
        return self.node("Reshape", [moved, four])

    def upsample_by_sizes(self, x, factor):
        """F.interpolate(scale_factor=factor, mode='nearest') as torch exports it: sizes from Shape."""
        shape = self.node("Shape", [x])
        start = self.const("start", np.array([2], dtype=np.int64))
        end = self.const("end", np.array([4], dtype=np.int64))
        hw = self.node("Slice", [shape, start, end])
        hw_float = self.node("Cast", [hw], to=TensorProto.FLOAT)
        scaled = self.node("Mul", [hw_float, self.const("factor", np.array([factor, factor], dtype=np.float32))])
        hw_int = self.node("Cast", [self.node("Floor", [scaled])], to=TensorProto.INT64)
        nc = self.node("Slice", [shape, self.const("zero", np.array([0], dtype=np.int64)), start])
        sizes = self.node("Concat", [nc, hw_int], axis=0)
        return self.node("Resize", [x, "", "", sizes], mode="nearest", coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor")


def ncnn_to_onnx(param_path, shuffle):
    """An ONNX graph of an ncnn network. `shuffle` is 'reshape' (the Reshape/Transpose chain) or 'depth' (CRD)."""
    layers = read_param(param_path)
    weights = Weights(os.path.splitext(param_path)[0] + ".bin")
    g = GraphWriter()
    blobs = {}
    input_name = "input"
    for kind, name, inputs, outputs, p in layers:
        src = [blobs[i] for i in inputs]
        if kind == "Input":
            blobs[outputs[0]] = input_name
            continue
        if kind == "Split":
            for out in outputs:
                blobs[out] = src[0]
            continue
        if kind == "Convolution":
            out_c, k = p[0], p[1]
            pad = p.get(4, 0)
            count = p[6]
            w = weights.tagged(count).reshape(out_c, count // (out_c * k * k), k, k)
            ins = [src[0], g.const("weight", w)]
            if p.get(5, 0):
                ins.append(g.const("bias", weights.raw(out_c)))
            y = g.node("Conv", ins, base="Conv", kernel_shape=[k, k], pads=[pad] * 4)
            act = p.get(9, 0)
            if act == 1:
                y = g.node("Relu", [y])
            elif act == 2:
                y = g.node("LeakyRelu", [y], alpha=float(p[10][0]))
            elif act != 0:
                raise SystemExit(f"activation {act}")
        elif kind == "PReLU":
            y = g.node("PRelu", [src[0], g.const("slope", weights.raw(p[0]).reshape(-1, 1, 1))])
        elif kind == "Swish":
            y = g.node("Mul", [src[0], g.node("Sigmoid", [src[0]])])
        elif kind == "Sigmoid":
            y = g.node("Sigmoid", [src[0]])
        elif kind == "MemoryData":
            c = p.get(2, 1)
            y = g.const("memory", weights.raw(c * p.get(1, 1) * p.get(0, 1)).reshape(1, c, 1, 1))
        elif kind == "BinaryOp":
            op = {0: "Add", 1: "Sub", 2: "Mul"}[p.get(0, 0)]
            if p.get(1, 0):
                y = g.node(op, [src[0], g.const("scalar", np.array(p.get(2, 0.0), dtype=np.float32))])
            else:
                y = g.node(op, src)
        elif kind == "Eltwise":
            coefficients = p.get(1, [1.0] * len(src))
            terms = [s if c == 1 else g.node("Mul", [s, g.const("coefficient", np.array(c, dtype=np.float32))])
                     for s, c in zip(src, coefficients)]
            y = terms[0]
            for t in terms[1:]:
                y = g.node("Add", [y, t])
        elif kind == "Concat":
            y = g.node("Concat", src, axis=1)
        elif kind == "PixelShuffle":
            if shuffle == "reshape":
                y = g.pixel_shuffle_reshape(src[0], p[0])
            else:
                y = g.node("DepthToSpace", [src[0]], blocksize=p[0], mode="CRD")
        elif kind == "Interp":
            factor = p[1]
            if shuffle == "depth":
                scales = g.const("scales", np.array([1, 1, factor, factor], dtype=np.float32))
                y = g.node("Resize", [src[0], "", scales], mode="nearest",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor")
            else:
                y = g.upsample_by_sizes(src[0], factor)
        else:
            raise SystemExit(f"ncnn layer {kind} is not converted")
        blobs[outputs[0]] = y
    out = blobs["output"]
    g.nodes.append(helper.make_node("Identity", [out], ["output"], name="output"))
    dims = ["batch", 3, "height", "width"]
    graph = helper.make_graph(
        g.nodes, "network",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3, "out_height", "out_width"])],
        g.initializers)
    return make_model(graph)


def make_model(graph, opset=OPSET):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="pytorch")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def to_fp16_weights(model):
    """Every float initializer stored as float16 and widened by a Cast node (how half-precision weights ship)."""
    graph = model.graph
    casts = []
    kept = []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and len(init.dims) > 0:
            array = numpy_helper.to_array(init).astype(np.float16)
            half = numpy_helper.from_array(array, init.name + "_fp16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + "_cast"))
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def to_bgr_255(model):
    """The network behind an OpenCV-style convention: BGR in 0..255 in and out (a Split/Concat swaps red and blue)."""
    graph = model.graph
    g = GraphWriter()
    three = g.const("three", np.array([1, 1, 1], dtype=np.int64))
    b, gr, r = g.node("Split", ["input_bgr", three], axis=1, outputs=3)
    rgb = g.node("Concat", [r, gr, b], axis=1)
    g.nodes.append(helper.make_node("Div", [rgb, g.const("k255", np.array(255, dtype=np.float32))], ["input"],
                                    name="to_unit"))
    tail = GraphWriter()
    tail.count = 10_000
    scaled = tail.node("Mul", ["output", tail.const("k255", np.array(255, dtype=np.float32))])
    r2, g2, b2 = tail.node("Split", [scaled, tail.const("three", np.array([1, 1, 1], dtype=np.int64))], axis=1,
                           outputs=3)
    tail.nodes.append(helper.make_node("Concat", [b2, g2, r2], ["output_bgr"], axis=1, name="to_bgr"))
    nodes = g.nodes + list(graph.node) + tail.nodes
    new = helper.make_graph(
        nodes, graph.name,
        [helper.make_tensor_value_info("input_bgr", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("output_bgr", TensorProto.FLOAT, ["batch", 3, "out_height", "out_width"])],
        list(graph.initializer) + g.initializers + tail.initializers)
    return make_model(new)


# ---------------------------------------------------------------------------------------------------------------------
# Operator graphs (seeded random weights)


def op_graphs():
    rng = np.random.default_rng(20261204)

    def rand(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    graphs = {}

    def finish(name, g, x, y, channels=8, opset=OPSET):
        graph = helper.make_graph(
            g.nodes, name,
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, channels, "height", "width"])],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["n", "c", "oh", "ow"])], g.initializers)
        graphs[name] = (make_model(graph, opset), channels)

    # Convolutions: groups, dilation, asymmetric pads, SAME_UPPER, a stride-2 2x2 kernel, a transposed convolution.
    g = GraphWriter()
    y = g.node("Conv", ["x", g.const("w", rand(8, 4, 3, 3)), g.const("b", rand(8))], group=2, pads=[1, 1, 1, 1])
    y = g.node("Conv", [y, g.const("w", rand(8, 1, 3, 3))], group=8, dilations=[2, 2], pads=[2, 1, 2, 3])
    y = g.node("Conv", [y, g.const("w", rand(6, 8, 4, 4)), g.const("b", rand(6))], auto_pad="SAME_UPPER")
    y = g.node("Conv", [y, g.const("w", rand(8, 6, 2, 2)), g.const("b", rand(8))], strides=[2, 2])
    y = g.node("ConvTranspose", [y, g.const("w", rand(8, 5, 4, 4)), g.const("b", rand(5))], strides=[2, 2],
               pads=[1, 1, 1, 1])
    y = g.node("ConvTranspose", [y, g.const("w", rand(5, 3, 3, 3))], strides=[2, 2], pads=[1, 1, 1, 1],
               output_padding=[1, 1])
    finish("convolutions", g, "x", y)

    # Activations.
    g = GraphWriter()
    parts = [
        g.node("Relu", ["x"]),
        g.node("LeakyRelu", ["x"], alpha=0.1),
        g.node("PRelu", ["x", g.const("slope", rand(8, 1, 1))]),
        g.node("Sigmoid", ["x"]),
        g.node("Tanh", ["x"]),
        g.node("HardSigmoid", ["x"], alpha=0.25, beta=0.4),
        g.node("HardSwish", ["x"]),
        g.node("Clip", ["x", g.const("lo", np.array(-0.2, dtype=np.float32)),
                        g.const("hi", np.array(0.3, dtype=np.float32))]),
    ]
    # GELU as torch exports it before opset 20: x * 0.5 * (1 + erf(x / sqrt(2))).
    erf = g.node("Erf", [g.node("Div", ["x", g.const("sqrt2", np.array(np.sqrt(2), dtype=np.float32))])])
    one_plus = g.node("Add", [erf, g.const("one", np.array(1, dtype=np.float32))])
    parts.append(g.node("Mul", [g.node("Mul", ["x", one_plus]), g.const("half", np.array(0.5, dtype=np.float32))]))
    y = g.node("Concat", parts, axis=1)
    y = g.node("Conv", [y, g.const("w", rand(8, 72, 1, 1))])
    finish("activations", g, "x", y)

    # GELU as one operator (opset 20), both forms.
    g = GraphWriter()
    y = g.node("Concat", [g.node("Gelu", ["x"]), g.node("Gelu", ["x"], approximate="tanh")], axis=1)
    finish("gelu", g, "x", y, opset=20)

    # Arithmetic with per-channel and scalar constants, and between maps.
    g = GraphWriter()
    a = g.node("Conv", ["x", g.const("w", rand(8, 8, 3, 3))], pads=[1, 1, 1, 1])
    y = g.node("Add", ["x", g.const("bias", rand(1, 8, 1, 1))])
    y = g.node("Sub", [g.const("scalar", np.array(0.25, dtype=np.float32)), y])
    y = g.node("Mul", [y, g.const("scale", rand(8, 1, 1))])
    y = g.node("Div", [y, g.const("divisor", np.array(1.7, dtype=np.float32))])
    y = g.node("Add", [y, g.node("Pow", [a, g.const("two", np.array(2, dtype=np.float32))])])
    y = g.node("Max", [y, a])
    y = g.node("Min", [y, g.node("Div", [a, g.node("Add", [g.node("Mul", ["x", "x"]),
                                                           g.const("one", np.array(1, dtype=np.float32))])])])
    finish("arithmetic", g, "x", y)

    # Channel splits, slices, crops, concatenation, zero padding into a convolution, reflect and edge padding.
    g = GraphWriter()
    first, second = g.node("Split", ["x", g.const("split", np.array([3, 5], dtype=np.int64))], axis=1, outputs=2)
    sliced = g.node("Slice", ["x", g.const("s", np.array([2], dtype=np.int64)), g.const("e", np.array([6], dtype=np.int64)),
                              g.const("a", np.array([1], dtype=np.int64))])
    y = g.node("Concat", [second, first, sliced], axis=1)
    padded = g.node("Pad", [y, g.const("pads", np.array([0, 0, 2, 1, 0, 0, 0, 3], dtype=np.int64))])
    y = g.node("Conv", [padded, g.const("w", rand(8, 12, 3, 3))])
    reflected = g.node("Pad", [y, g.const("pads", np.array([0, 0, 3, 1, 0, 0, 2, 4], dtype=np.int64))], mode="reflect")
    y = g.node("Add", [g.node("Pad", [reflected, g.const("pads", np.array([0, 0, 0, 2, 0, 0, 1, 0], dtype=np.int64))],
                              mode="edge"), g.const("one", np.array(1, dtype=np.float32))])
    cropped = g.node("Slice", [y, g.const("s", np.array([1, 2], dtype=np.int64)),
                               g.const("e", np.array([-1, 9223372036854775807], dtype=np.int64)),
                               g.const("a", np.array([2, 3], dtype=np.int64))])
    finish("splits-and-crops", g, "x", cropped)

    # Depth and space: DCR, CRD, SpaceToDepth, and torch's pixel_unshuffle as Reshape/Transpose/Reshape.
    g = GraphWriter()
    d1 = g.node("DepthToSpace", ["x"], blocksize=2, mode="DCR")
    d2 = g.node("DepthToSpace", ["x"], blocksize=2, mode="CRD")
    y = g.node("Concat", [d1, d2], axis=1)
    y = g.node("SpaceToDepth", [y], blocksize=2)
    n, c, h, w = g.shape_dims(y)
    two = g.const("two", np.array([2], dtype=np.int64))
    six = g.node("Concat", [n, c, g.node("Div", [h, two]), two, g.node("Div", [w, two]), two], axis=0)
    moved = g.node("Transpose", [g.node("Reshape", [y, six])], perm=[0, 1, 3, 5, 2, 4])
    four = g.node("Concat", [n, g.node("Mul", [c, g.const("four", np.array([4], dtype=np.int64))]),
                             g.node("Div", [h, two]), g.node("Div", [w, two])], axis=0)
    y = g.node("Reshape", [moved, four])
    y = g.node("Conv", [y, g.const("w", rand(8, 64, 1, 1))])
    finish("depth-and-space", g, "x", y)

    # Resizing: nearest (half-pixel, round_prefer_floor) by 2, cubic (PyTorch's bicubic) by 2, nearest by sizes,
    # linear (PyTorch's bilinear) by 2, and linear and cubic by 3 with asymmetric coordinates (TensorFlow 1's).
    g = GraphWriter()
    near = g.node("Resize", ["x", "", g.const("scales", np.array([1, 1, 2, 2], dtype=np.float32))], mode="nearest")
    cubic = g.node("Resize", ["x", "", g.const("scales", np.array([1, 1, 2, 2], dtype=np.float32))], mode="cubic",
                   coordinate_transformation_mode="pytorch_half_pixel", cubic_coeff_a=-0.75)
    sized = g.upsample_by_sizes("x", 2.0)
    linear = g.node("Resize", ["x", "", g.const("scales", np.array([1, 1, 2, 2], dtype=np.float32))], mode="linear",
                    coordinate_transformation_mode="half_pixel")
    y = g.node("Concat", [near, cubic, sized, linear], axis=1)
    finish("resize", g, "x", y)
    g = GraphWriter()
    three = g.const("scales", np.array([1, 1, 3, 3], dtype=np.float32))
    linear = g.node("Resize", ["x", "", three], mode="linear", coordinate_transformation_mode="asymmetric")
    cubic = g.node("Resize", ["x", "", three], mode="cubic", coordinate_transformation_mode="asymmetric",
                   cubic_coeff_a=-0.75)
    y = g.node("Concat", [linear, cubic], axis=1)
    finish("resize-asymmetric", g, "x", y)

    # Channel attention: GlobalAveragePool, Flatten, Gemm, Relu, MatMul, Sigmoid, Reshape back, and ReduceMean.
    g = GraphWriter()
    pooled = g.node("Flatten", [g.node("GlobalAveragePool", ["x"])], axis=1)
    hidden = g.node("Relu", [g.node("Gemm", [pooled, g.const("w1", rand(4, 8)), g.const("b1", rand(4))], transB=1)])
    gate = g.node("Sigmoid", [g.node("MatMul", [hidden, g.const("w2", rand(4, 8))])])
    gate = g.node("Reshape", [gate, g.const("shape", np.array([1, 8, 1, 1], dtype=np.int64))])
    y = g.node("Mul", ["x", gate])
    mean = g.node("ReduceMean", ["x"], axes=[2, 3], keepdims=1)
    y = g.node("Add", [y, mean])
    finish("channel-attention", g, "x", y)

    # A ConvNeXt/transformer-style block: to channels-last, LayerNormalization, Linear (MatMul + bias), GELU,
    # Linear, layer scale, back to NCHW, residual; then a layer norm written out over the channels of the NCHW map
    # (ReduceMean, Sub, Pow, Sqrt, Div), and a softmax over the channels beside ReduceMax/ReduceSum/Exp.
    g = GraphWriter()
    t = g.node("Transpose", ["x"], perm=[0, 2, 3, 1])
    t = g.node("LayerNormalization", [t, g.const("gamma", 1 + rand(8)), g.const("beta", rand(8))], axis=-1,
               epsilon=1e-6)
    t = g.node("Add", [g.node("MatMul", [t, g.const("w1", rand(8, 16))]), g.const("b1", rand(16))])
    erf = g.node("Erf", [g.node("Div", [t, g.const("sqrt2", np.array(np.sqrt(2), dtype=np.float32))])])
    t = g.node("Mul", [g.node("Mul", [t, g.node("Add", [erf, g.const("one", np.array(1, dtype=np.float32))])]),
                       g.const("half", np.array(0.5, dtype=np.float32))])
    t = g.node("Mul", [g.node("MatMul", [t, g.const("w2", rand(16, 8))]), g.const("layer_scale", rand(8))])
    y = g.node("Add", ["x", g.node("Transpose", [t], perm=[0, 3, 1, 2])])
    mean = g.node("ReduceMean", [y], axes=[1], keepdims=1)
    centred = g.node("Sub", [y, mean])
    variance = g.node("ReduceMean", [g.node("Pow", [centred, g.const("two", np.array(2, dtype=np.float32))])],
                      axes=[1], keepdims=1)
    spread = g.node("Sqrt", [g.node("Add", [variance, g.const("eps", np.array(1e-6, dtype=np.float32))])])
    y = g.node("Add", [g.node("Mul", [g.node("Div", [centred, spread]), g.const("w", 1 + rand(8, 1, 1))]),
                       g.const("b", rand(8, 1, 1))])
    soft = g.node("Softmax", [y], axis=1)
    largest = g.node("ReduceMax", [y], axes=[1], keepdims=1)
    total = g.node("ReduceSum", [g.node("Exp", [g.node("Sub", [y, largest])]),
                                 g.const("axes", np.array([1], dtype=np.int64))], keepdims=1)
    y = g.node("Concat", [soft, g.node("Div", [y, total])], axis=1)
    finish("layer-norm-and-softmax", g, "x", y)

    return graphs


# ---------------------------------------------------------------------------------------------------------------------
# Hostile and fixed-size files


def hostile_files(out):
    rng = np.random.default_rng(7)
    cases = {}
    # Unsupported operators (three nodes of two kinds): the error lists both.
    g = GraphWriter()
    y = g.node("Conv", ["input", g.const("w", rng.standard_normal((3, 3, 3, 3)).astype(np.float32))], pads=[1] * 4)
    y = g.node("LpNormalization", [y], axis=1)
    y = g.node("Einsum", [y, y], equation="bchw,bchw->bchw")
    y = g.node("LpNormalization", [y], axis=1)
    graph = helper.make_graph(g.nodes, "unsupported",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["n", "c", "oh", "ow"])], g.initializers)
    onnx.save(make_model(graph), os.path.join(out, "unsupported-operators.onnx"))
    cases["unsupported-operators.onnx"] = "unsupportedOperation"
    # A bilinear resize with align_corners: its grid depends on the whole picture's size.
    g = GraphWriter()
    y = g.node("Resize", ["input", "", g.const("scales", np.array([1, 1, 2, 2], dtype=np.float32))], mode="linear",
               coordinate_transformation_mode="align_corners")
    y = g.node("Conv", [y, g.const("w", (rng.standard_normal((3, 3, 3, 3)) * 0.3).astype(np.float32))], pads=[1, 1, 1, 1])
    graph = helper.make_graph(g.nodes, "align-corners",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["n", "c", "oh", "ow"])], g.initializers)
    onnx.save(make_model(graph), os.path.join(out, "align-corners.onnx"))
    cases["align-corners.onnx"] = "unsupportedAttribute"
    # A truncated copy of a real file.
    with open(os.path.join(out, "animevideov3-x4.onnx"), "rb") as f:
        data = f.read()
    with open(os.path.join(out, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    cases["truncated.onnx"] = "malformed"
    # An initializer whose dims claim 2^40 elements (with 8 bytes of data).
    huge = TensorProto()
    huge.name = "w"
    huge.data_type = TensorProto.FLOAT
    huge.dims.extend([1 << 20, 1 << 20, 1, 1])
    huge.raw_data = b"\0" * 8
    node = helper.make_node("Conv", ["input", "w"], ["output"], name="conv")
    graph = helper.make_graph([node], "huge",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", "c", "oh", "ow"])], [huge])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    with open(os.path.join(out, "huge-initializer.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    cases["huge-initializer.onnx"] = "malformed"
    return cases


def fixed_size_model():
    """An SRVGG-like x2 network exported at a fixed 64x64 (every shape a literal, the pixel shuffle's Reshape too)."""
    rng = np.random.default_rng(64)
    g = GraphWriter()
    y = g.node("Conv", ["input", g.const("w", (rng.standard_normal((16, 3, 3, 3)) * 0.3).astype(np.float32))],
               pads=[1] * 4)
    y = g.node("PRelu", [y, g.const("slope", np.full((16, 1, 1), 0.25, dtype=np.float32))])
    y = g.node("Conv", [y, g.const("w", (rng.standard_normal((12, 16, 3, 3)) * 0.1).astype(np.float32))],
               pads=[1] * 4)
    six = g.node("Reshape", [y, g.const("six", np.array([1, 3, 2, 2, 64, 64], dtype=np.int64))])
    moved = g.node("Transpose", [six], perm=[0, 1, 4, 2, 5, 3])
    shuffled = g.node("Reshape", [moved, g.const("four", np.array([1, 3, 128, 128], dtype=np.int64))])
    up = g.node("Resize", ["input", "", "", g.const("sizes", np.array([1, 3, 128, 128], dtype=np.int64))],
                mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    y = g.node("Add", [shuffled, up])
    graph = helper.make_graph(g.nodes, "fixed",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 3, 128, 128])], g.initializers)
    return make_model(graph)


# ---------------------------------------------------------------------------------------------------------------------


def picture(shared, height, width, channels=3):
    """A crop of Set14's first picture (RGB / 255, NCHW); a seeded random field when the shared data is absent."""
    folder = os.path.join(shared, "datasets", "Set14") if shared else None
    if folder and os.path.isdir(folder):
        from PIL import Image
        names = sorted(f for f in os.listdir(folder) if f.lower().endswith((".png", ".bmp", ".jpg")))
        image = np.asarray(Image.open(os.path.join(folder, names[0])).convert("RGB"), dtype=np.float32) / 255
        crop = image[20:20 + height, 30:30 + width, :]
        planes = np.transpose(crop, (2, 0, 1))
        if channels != 3:
            planes = np.concatenate([planes] * ((channels + 2) // 3), axis=0)[:channels]
        return planes[None].astype(np.float32)
    return np.random.default_rng(1).random((1, channels, height, width), dtype=np.float32)


def run_reference(path, x):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="the model store holding the ncnn networks")
    parser.add_argument("--shared", default="../shared", help="the shared data folder (Set14 crops)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = {"networks": [], "operators": [], "hostile": {}}

    def record(kind, name, path, x, extra=None):
        y = run_reference(path, x)
        x.astype("<f4").tofile(os.path.join(args.out, name + ".input.f32"))
        y.astype("<f4").tofile(os.path.join(args.out, name + ".output.f32"))
        entry = {"name": name, "file": os.path.basename(path), "input": name + ".input.f32",
                 "inputShape": list(x.shape), "output": name + ".output.f32", "outputShape": list(y.shape)}
        entry.update(extra or {})
        manifest[kind].append(entry)
        print(f"{name}: {list(x.shape)} -> {list(y.shape)}", file=sys.stderr)

    # name, ncnn param, pixel shuffle form, variant (fp16 weights, BGR 0-255 convention), external data, input size
    networks = [
        ("span-x4", "span-ch48-x4/spanx4_ch48.param", "reshape", None, False, (36, 44)),
        ("animevideov3-x4", "realesr-animevideov3-x4/realesr-animevideov3-x4.param", "depth", None, False, (40, 52)),
        ("animevideov3-x4-fp16", "realesr-animevideov3-x4/realesr-animevideov3-x4.param", "depth", "fp16", False,
         (40, 52)),
        ("animevideov3-x4-bgr255", "realesr-animevideov3-x4/realesr-animevideov3-x4.param", "depth", "bgr255",
         False, (24, 20)),
        ("x4plus", "realesrgan-x4plus/realesrgan-x4plus.param", "reshape", None, True, (28, 36)),
    ]
    for name, param, shuffle, variant, external, (h, w) in networks:
        path = os.path.join(args.store, param)
        if not os.path.exists(path):
            print(f"{path} is missing: {name} is not written", file=sys.stderr)
            continue
        model = ncnn_to_onnx(path, shuffle)
        x = picture(args.shared, h, w)
        extra = {"ncnnParam": param}
        if variant == "fp16":
            model = to_fp16_weights(model)
            # The float16 copy rounds the weights: the same network as onnxruntime runs it, not as ncnn does.
            extra = {}
        elif variant == "bgr255":
            model = to_bgr_255(model)
            x = np.ascontiguousarray(x[:, ::-1] * 255)
            extra = {"convention": {"range": "0-255", "channels": "bgr"}}
        target = os.path.join(args.out, name + ".onnx")
        if external:
            onnx.save(model, target, save_as_external_data=True, all_tensors_to_one_file=True,
                      location=name + ".onnx.data", size_threshold=1024)
        else:
            onnx.save(model, target)
        record("networks", name, target, x, extra)

    for name, (model, channels) in op_graphs().items():
        target = os.path.join(args.out, "op-" + name + ".onnx")
        onnx.save(model, target)
        record("operators", "op-" + name, target, picture(args.shared, 12, 16, channels) - 0.5)

    fixed = os.path.join(args.out, "fixed-64.onnx")
    onnx.save(fixed_size_model(), fixed)
    record("networks", "fixed-64", fixed, picture(args.shared, 64, 64), {"fixedSize": 64})

    if os.path.exists(os.path.join(args.out, "animevideov3-x4.onnx")):
        manifest["hostile"] = hostile_files(args.out)

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
