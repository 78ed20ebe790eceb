#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/TARGET/) from scratch: tiny valid inputs of each parser,
in the variants the parser branches on. Run with the OpenCV venv's Python (numpy + cv2 encode the JPEG/WebP seeds):
    .build/opencv-venv/bin/python tools/make_fuzz_seeds.py
PNGs, protobufs, ncnn files and multipart bodies are written byte by byte here, so every chunk and field is explicit."""
import os
import struct
import sys
import zlib

import cv2
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")


def save(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as file:
        file.write(data)


# --- PNG -----------------------------------------------------------------------------------------------------------

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, colour_type, depth, rows, extra=b"", interlaced=False, palette=None):
    """rows: the raw (unfiltered) bytes of each row, or of each Adam7 pass's rows when interlaced."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 1 if interlaced else 0)
    body = chunk(b"IHDR", ihdr)
    if palette is not None:
        body += chunk(b"PLTE", palette)
    body += extra
    raw = b"".join(b"\x00" + row for row in rows)
    body += chunk(b"IDAT", zlib.compress(raw, 9))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def rows_of(pixels, bytes_per_row):
    return [pixels[i:i + bytes_per_row] for i in range(0, len(pixels), bytes_per_row)]


def adam7_rows(width, height, pixel):
    """The rows of every non-empty Adam7 pass of an image whose pixel (x, y) is `pixel(x, y)` (bytes)."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        xs = range(x0, width, dx)
        for y in range(y0, height, dy):
            if len(xs):
                rows.append(b"".join(pixel(x, y) for x in xs))
    return rows


def png_seeds():
    w, h = 7, 5
    rgb = bytes((x * 37 + y * 11 + c * 80) % 256 for y in range(h) for x in range(w) for c in range(3))
    save("png", "rgb8.png", png(w, h, 2, 8, rows_of(rgb, w * 3)))
    rgba = bytes((x * 13 + y * 29 + c * 60) % 256 for y in range(h) for x in range(w) for c in range(4))
    save("png", "rgba8.png", png(w, h, 6, 8, rows_of(rgba, w * 4)))
    grey = bytes((x * 30 + y * 7) % 256 for y in range(h) for x in range(w))
    save("png", "grey8.png", png(w, h, 0, 8, rows_of(grey, w)))
    grey_alpha = bytes((x * 30 + y * 7 + c * 100) % 256 for y in range(h) for x in range(w) for c in range(2))
    save("png", "greyalpha8.png", png(w, h, 4, 8, rows_of(grey_alpha, w * 2)))
    rgb16 = b"".join(struct.pack(">H", (x * 9000 + y * 3000 + c * 20000) % 65536)
                     for y in range(h) for x in range(w) for c in range(3))
    save("png", "rgb16.png", png(w, h, 2, 16, rows_of(rgb16, w * 6)))
    bits = [bytes([0b10110010]), bytes([0b01001101]), bytes([0b11100001]), bytes([0b00011110]), bytes([0b10101010])]
    save("png", "grey1.png", png(w, h, 0, 1, bits))
    palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250])
    indices = bytes((x + y) % 4 for y in range(h) for x in range(w))
    trns = chunk(b"tRNS", bytes([255, 128, 0]))
    save("png", "palette-trns.png", png(w, h, 3, 8, rows_of(indices, w), extra=trns, palette=palette))
    texts = chunk(b"tEXt", b"Comment\x00a seed") + chunk(b"zTXt", b"Note\x00\x00" + zlib.compress(b"x" * 200))
    texts += chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))
    save("png", "ancillary.png", png(w, h, 2, 8, rows_of(rgb, w * 3), extra=texts))
    save("png", "interlaced.png", png(9, 9, 2, 8, adam7_rows(9, 9, lambda x, y: bytes([x * 20, y * 20, 99])),
                                      interlaced=True))


# --- JPEG, EXIF, WebP ----------------------------------------------------------------------------------------------

def exif_tiff(orientation, little_endian):
    order = "<" if little_endian else ">"
    head = (b"II" if little_endian else b"MM") + struct.pack(order + "HI", 42, 8)
    entries = struct.pack(order + "H", 2)
    entries += struct.pack(order + "HHIHH", 0x010F, 2, 4, 0, 0)  # Make: "ab\0\0" in the entry
    entries += struct.pack(order + "HHIHH", 0x0112, 3, 1, orientation, 0)
    return head + entries + struct.pack(order + "I", 0)


def with_exif(jpeg, tiff):
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xFF\xE1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def image(w, h, channels):
    y, x = np.mgrid[0:h, 0:w]
    planes = [((x * 23 + y * 41 + c * 70) % 256).astype(np.uint8) for c in range(channels)]
    return np.dstack(planes) if channels > 1 else planes[0]


def encoded(ext, img, params=()):
    ok, data = cv2.imencode(ext, img, list(params))
    assert ok
    return data.tobytes()


def jpeg_webp_exif_seeds():
    colour = image(12, 9, 3)
    save("jpeg", "colour420.jpg", encoded(".jpg", colour, [cv2.IMWRITE_JPEG_QUALITY, 80]))
    save("jpeg", "colour444-progressive.jpg", encoded(".jpg", colour, [
        cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_PROGRESSIVE, 1,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]))
    save("jpeg", "grey.jpg", encoded(".jpg", image(12, 9, 1), [cv2.IMWRITE_JPEG_QUALITY, 75]))
    save("jpeg", "restart.jpg", encoded(".jpg", colour, [cv2.IMWRITE_JPEG_RST_INTERVAL, 1]))
    for orientation, little in ((6, True), (3, False), (8, True), (5, False)):
        order = "le" if little else "be"
        tagged = with_exif(encoded(".jpg", colour), exif_tiff(orientation, little))
        save("jpeg", f"exif-{orientation}-{order}.jpg", tagged)
        save("exif", f"jpeg-{orientation}-{order}.jpg", tagged)
        save("exif", f"tiff-{orientation}-{order}.tif", exif_tiff(orientation, little))
    save("webp", "lossy.webp", encoded(".webp", colour, [cv2.IMWRITE_WEBP_QUALITY, 80]))
    save("webp", "lossless.webp", encoded(".webp", colour, [cv2.IMWRITE_WEBP_QUALITY, 101]))
    save("webp", "alpha-lossy.webp", encoded(".webp", image(12, 9, 4), [cv2.IMWRITE_WEBP_QUALITY, 70]))
    save("webp", "alpha-lossless.webp", encoded(".webp", image(12, 9, 4), [cv2.IMWRITE_WEBP_QUALITY, 101]))


# --- TensorFlow GraphDef (protobuf written by hand; field numbers from graph.proto, node_def.proto, attr_value.proto,
#     tensor.proto, tensor_shape.proto) ----------------------------------------------------------------------------

def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def int_field(number, value):
    return varint(number << 3) + varint(value)


def shape(dims):
    return b"".join(field(2, int_field(1, d)) for d in dims)


def attr(key, value):
    return field(5, field(1, key.encode()) + field(2, value))


def node(name, op, inputs=(), attrs=b""):
    return field(1, field(1, name.encode()) + field(2, op.encode())
                 + b"".join(field(3, i.encode()) for i in inputs) + attrs)


def float_const(name, dims, values):
    tensor = int_field(1, 1) + field(2, shape(dims)) + field(4, struct.pack(f"<{len(values)}f", *values))
    return node(name, "Const", attrs=attr("dtype", int_field(6, 1)) + attr("value", field(8, tensor)))


def conv(name, x, w):
    strides = field(1, field(3, b"".join(varint(1) for _ in range(4))))
    return node(name, "Conv2D", [x, w], attr("padding", field(2, b"SAME")) + attr("strides", strides)
                + attr("data_format", field(2, b"NHWC")) + attr("T", int_field(6, 1)))


def graphdef_seeds():
    def weights(count, seed):
        return [((i * 7 + seed) % 13 - 6) / 20.0 for i in range(count)]

    placeholder = node("input", "Placeholder", attrs=attr("dtype", int_field(6, 1))
                       + attr("shape", field(7, shape([1 << 64 - 1, 1 << 64 - 1, 1 << 64 - 1, 1]))))
    espcn_like = (placeholder
                  + float_const("w1", [3, 3, 1, 4], weights(36, 1)) + conv("c1", "input", "w1")
                  + float_const("b1", [4], weights(4, 2)) + node("a1", "BiasAdd", ["c1", "b1"])
                  + node("r1", "Tanh", ["a1"])
                  + float_const("w2", [3, 3, 4, 4], weights(144, 3)) + conv("c2", "r1", "w2")
                  + float_const("b2", [4], weights(4, 4)) + node("a2", "Add", ["c2", "b2"])
                  + node("out", "DepthToSpace", ["a2"], attr("block_size", int_field(3, 2))))
    save("graphdef", "espcn-like.pb", espcn_like)
    elementwise = (placeholder
                 + float_const("w1", [3, 3, 1, 4], weights(36, 5)) + conv("c1", "input", "w1")
                 + node("r", "Relu", ["c1"]) + float_const("k", [1], [0.5]) + node("m", "Mul", ["r", "k"])
                 + node("s", "Sub", ["m", "k"]) + node("x", "Maximum", ["s", "k"]) + node("n", "Minimum", ["x", "k"])
                 + node("ab", "Abs", ["n"]) + node("id", "Identity", ["ab"])
                 + node("out", "DepthToSpace", ["id"], attr("block_size", int_field(3, 2))))
    save("graphdef", "elementwise.pb", elementwise)


# --- ncnn ------------------------------------------------------------------------------------------------------------

BIN_PARAM = """7767517
4 4
Input            input     0 1 data
Convolution      conv1     1 1 data c1 0=4 1=3 4=1 5=1 6=108
Convolution      conv2     1 1 c1 c2 0=12 1=3 4=1 5=0 6=432
PixelShuffle     shuffle   1 1 c2 out 0=2
"""


def ncnn_seeds():
    save("ncnn-param", "conv-shuffle.param", BIN_PARAM.encode())
    save("ncnn-param", "layers.param", b"""7767517
11 13
Input            input     0 1 data
Convolution      conv0     1 1 data c0 0=8 1=3 4=1 5=1 6=216 9=2 -23310=1,0.2
Split            split     1 2 c0 s0 s1
ReLU             relu      1 1 s0 r0 0=0.1
PReLU            prelu     1 1 s1 p0 0=8
Eltwise          sum       2 1 r0 p0 e0 0=1 -23301=2,1.0,0.5
BinaryOp         mul       1 1 e0 m0 0=2 1=1 2=0.5
Concat           cat       1 1 m0 k0
Convolution      conv1     1 1 k0 c1 0=12 1=3 4=1 5=1 6=864
PixelShuffle     shuffle   1 1 c1 ps 0=2
Interp           up        1 1 ps out 0=3 1=1.0 2=1.0
""")
    save("ncnn-param", "interp.param", b"""7767517
3 3
Input            input     0 1 data
Convolution      conv      1 1 data c0 0=3 1=1 5=1 6=9
Interp           up        1 1 c0 out 0=1 1=2.0 2=2.0
""")
    tagged_fp16 = struct.pack("<I", 0x01306B47) + struct.pack("<108e", *[(i % 9 - 4) / 8 for i in range(108)])
    raw_fp32 = struct.pack("<I", 0) + struct.pack("<108f", *[(i % 9 - 4) / 8 for i in range(108)])
    bias = struct.pack("<4f", 0.1, -0.1, 0.2, 0.0)
    second = struct.pack("<I", 0) + struct.pack("<432f", *[(i % 11 - 5) / 30 for i in range(432)])
    save("ncnn-bin", "fp16-fp32.bin", tagged_fp16 + bias + second)
    save("ncnn-bin", "fp32-fp32.bin", raw_fp32 + bias + second)
    table = struct.pack("<I", 0x12345678) + struct.pack("<256f", *[(i - 128) / 256 for i in range(256)])
    save("ncnn-bin", "table.bin", table + bytes(i % 256 for i in range(108)) + bias + second)


# --- multipart -------------------------------------------------------------------------------------------------------

def multipart_seeds():
    w, h = 4, 3
    rgb = bytes((x * 50 + y * 70 + c * 30) % 256 for y in range(h) for x in range(w) for c in range(3))
    picture = png(w, h, 2, 8, rows_of(rgb, w * 3))

    def part(name, body, filename=None, content_type=None):
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"Content-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        return b"--fuzz\r\n" + head.encode() + b"\r\n" + body + b"\r\n"

    save("multipart", "image.txt", part("image", picture, "small.png", "image/png") + b"--fuzz--\r\n")
    save("multipart", "fields.txt", part("scale", b"2") + part("format", b"webp")
         + part("image", picture, "dir/p.png", "image/png") + b"--fuzz--\r\n")
    save("multipart", "refused-no-image.txt", part("picture", picture, "p.png") + b"--fuzz--\r\n")


# --- rows (files decoded a band of rows at a time) -------------------------------------------------------------------

def rows_seeds():
    """The decoders' seeds that are read by rows (and an interlaced PNG, which is not), from their own corpora."""
    chosen = {"png": ["rgb8.png", "rgba8.png", "rgb16.png", "grey8.png", "palette-trns.png"],
              "jpeg": ["colour420.jpg", "grey.jpg", "colour444-progressive.jpg"],
              "tiff": ["grey-alpha-16-lzw.tif", "tiled.tif", "rgb-deflate-exif.tif", "rgb-jpeg.tif", "refused-cut.tif"]}
    for target, names in chosen.items():
        for name in names:
            with open(os.path.join(ROOT, target, name), "rb") as source:
                save("rows", name, source.read())
    with open(os.path.join(ROOT, "png", "interlaced.png"), "rb") as source:
        save("rows", "refused-interlaced.png", source.read())


if __name__ == "__main__":
    png_seeds()
    jpeg_webp_exif_seeds()
    graphdef_seeds()
    ncnn_seeds()
    multipart_seeds()
    rows_seeds()
    print("seeds written to", os.path.normpath(ROOT), file=sys.stderr)
