#!/usr/bin/env python3
"""Dump a TensorFlow frozen GraphDef (.pb) without TensorFlow or the protobuf package.

An independent, pure-Python reading of the wire format, used to cross-check the Swift reader
(Sources/Models/Protobuf, Sources/Models/TensorFlow) and to compute expected numbers for its tests.

    python3 tools/dump_graphdef.py MODEL.pb                 # nodes, op counts, Conv2D kernel shapes
    python3 tools/dump_graphdef.py MODEL.pb --node NAME     # one node's attributes and first values
    python3 tools/dump_graphdef.py MODEL.pb --json          # everything except tensor bytes, as JSON
"""

import argparse
import collections
import json
import struct
import sys

DTYPES = {1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16", 6: "DT_INT8",
          7: "DT_STRING", 9: "DT_INT64", 10: "DT_BOOL", 11: "DT_QINT8", 12: "DT_QUINT8", 13: "DT_QINT32",
          14: "DT_BFLOAT16", 17: "DT_UINT16", 19: "DT_HALF"}


def fields(buf, start=0, end=None):
    """Yields (field number, wire type, value) where value is an int or a (start, end) byte range."""
    end = len(buf) if end is None else end
    pos = start

    def varint():
        nonlocal pos
        result, shift = 0, 0
        while True:
            if pos >= end:
                raise ValueError("truncated varint")
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift >= 70:
                raise ValueError("varint too long")

    while pos < end:
        tag = varint()
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 1:
            yield number, wire, (pos, pos + 8)
            pos += 8
        elif wire == 2:
            length = varint()
            if pos + length > end:
                raise ValueError("length beyond end")
            yield number, wire, (pos, pos + length)
            pos += length
        elif wire == 5:
            yield number, wire, (pos, pos + 4)
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")


def signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def packed(buf, wire, value, kind):
    """Reads one occurrence of a repeated scalar field, packed or not."""
    if wire == 2:
        start, end = value
        raw = bytes(buf[start:end])
        if kind == "f":
            return list(struct.unpack(f"<{len(raw) // 4}f", raw))
        if kind == "d":
            return list(struct.unpack(f"<{len(raw) // 8}d", raw))
        return [signed64(v) for v in _varints(raw)]
    if wire == 5:
        return [struct.unpack("<f", bytes(buf[value[0]:value[1]]))[0]]
    if wire == 1:
        return [struct.unpack("<d", bytes(buf[value[0]:value[1]]))[0]]
    return [signed64(value)]


def _varints(raw):
    """Decodes a packed run of varints."""
    out, value, shift = [], 0, 0
    for byte in raw:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            out.append(value)
            value, shift = 0, 0
    return out


def shape(buf, rng):
    dims = []
    for number, _, value in fields(buf, *rng):
        if number == 2:
            for n2, _, v2 in fields(buf, *value):
                if n2 == 1:
                    dims.append(signed64(v2))
    return dims


def tensor(buf, rng):
    t = {"dtype": 0, "shape": [], "content": b"", "float_val": [], "double_val": [], "int_val": [],
         "int64_val": [], "bool_val": [], "half_val": []}
    names = {5: ("float_val", "f"), 6: ("double_val", "d"), 7: ("int_val", "i"), 10: ("int64_val", "i"),
             11: ("bool_val", "i"), 13: ("half_val", "i")}
    for number, wire, value in fields(buf, *rng):
        if number == 1:
            t["dtype"] = value
        elif number == 2:
            t["shape"] = shape(buf, value)
        elif number == 4:
            t["content"] = bytes(buf[value[0]:value[1]])
        elif number in names:
            key, kind = names[number]
            t[key].extend(packed(buf, wire, value, kind))
    return t


def attr_value(buf, rng):
    for number, wire, value in fields(buf, *rng):
        if number == 2:
            return bytes(buf[value[0]:value[1]]).decode("utf-8", "replace")
        if number == 3:
            return signed64(value)
        if number == 4:
            return struct.unpack("<f", bytes(buf[value[0]:value[1]]))[0]
        if number == 5:
            return bool(value)
        if number == 6:
            return DTYPES.get(value, value)
        if number == 7:
            return {"shape": shape(buf, value)}
        if number == 8:
            return {"tensor": tensor(buf, value)}
        if number == 1:
            lst = collections.defaultdict(list)
            for n2, w2, v2 in fields(buf, *value):
                if n2 == 2:
                    lst["s"].append(bytes(buf[v2[0]:v2[1]]).decode("utf-8", "replace"))
                elif n2 == 3:
                    lst["i"].extend(packed(buf, w2, v2, "i"))
                elif n2 == 4:
                    lst["f"].extend(packed(buf, w2, v2, "f"))
                elif n2 == 6:
                    lst["type"].extend(DTYPES.get(v, v) for v in packed(buf, w2, v2, "i"))
            return {"list": dict(lst)}
    return None


def graph(buf):
    nodes = []
    for number, _, value in fields(buf):
        if number != 1:
            continue
        node = {"name": "", "op": "", "input": [], "device": "", "attr": {}}
        for n2, _, v2 in fields(buf, *value):
            if n2 == 1:
                node["name"] = bytes(buf[v2[0]:v2[1]]).decode()
            elif n2 == 2:
                node["op"] = bytes(buf[v2[0]:v2[1]]).decode()
            elif n2 == 3:
                node["input"].append(bytes(buf[v2[0]:v2[1]]).decode())
            elif n2 == 4:
                node["device"] = bytes(buf[v2[0]:v2[1]]).decode()
            elif n2 == 5:
                key, val = None, None
                for n3, _, v3 in fields(buf, *v2):
                    if n3 == 1:
                        key = bytes(buf[v3[0]:v3[1]]).decode()
                    elif n3 == 2:
                        val = v3
                node["attr"][key] = attr_value(buf, val) if val else None
        nodes.append(node)
    return nodes


def values(t):
    """The tensor's values as a flat list (float content, quint8 content, or the *_val fields)."""
    if t["content"]:
        fmt = {1: "f", 2: "d", 3: "i", 4: "B", 9: "q", 12: "B", 10: "?"}[t["dtype"]]
        return list(struct.unpack(f"<{len(t['content']) // struct.calcsize(fmt)}{fmt}", t["content"]))
    for key in ("float_val", "double_val", "int_val", "int64_val", "bool_val"):
        if t[key]:
            return t[key]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--node", help="print one node in detail")
    parser.add_argument("--json", action="store_true", help="print all nodes as JSON (tensor bytes omitted)")
    args = parser.parse_args()
    with open(args.model, "rb") as f:
        buf = f.read()
    nodes = graph(buf)
    if args.node:
        node = next(n for n in nodes if n["name"] == args.node)
        for key, val in node["attr"].items():
            if isinstance(val, dict) and "tensor" in val:
                t = val["tensor"]
                vals = values(t)
                print(f"{key}: tensor {DTYPES.get(t['dtype'], t['dtype'])} shape {t['shape']} "
                      f"{len(vals)} values, first {vals[:8]}")
            else:
                print(f"{key}: {val}")
        print("inputs:", node["input"])
        return
    if args.json:
        for node in nodes:
            for val in node["attr"].values():
                if isinstance(val, dict) and "tensor" in val:
                    val["tensor"]["content"] = len(val["tensor"]["content"])
        json.dump(nodes, sys.stdout, indent=1)
        return
    ops = collections.Counter(n["op"] for n in nodes)
    print(f"{len(nodes)} nodes: " + ", ".join(f"{op} {count}" for op, count in sorted(ops.items())))
    for node in nodes:
        print(f"  {node['op']:12} {node['name']}  <- {', '.join(node['input'])}")


if __name__ == "__main__":
    main()
