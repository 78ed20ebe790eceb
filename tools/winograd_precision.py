#!/usr/bin/env python3
"""How much precision a 3x3 convolution keeps in float32 and in bfloat16, direct and by Winograd F(4x4,3x3) and
F(6x6,3x3): the evidence behind docs/PERFORMANCE.md's "reduced precision" section.

One EDSR-sized layer (256 -> 256 channels, He-scaled random weights, a ReLU'd random input) on a 36x36 map; the
reference is the direct sum in float64. bfloat16 runs as AVX-512 BF16's vdpbf16ps does: operands rounded to
bfloat16 (nearest even), products and sums in float32. The Winograd transforms are built with Cook-Toom on the
points 0, +-1, +-2, +-1/2 (F6) or 0, +-1, +-2 (F4) and infinity, as superres' kernels use.

    python3 tools/winograd_precision.py
"""
import numpy as np


def bf16(x):
    """Round float32 values to bfloat16 (nearest, ties to even), kept as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def cook_toom(m, points):
    """A^T (m x a), G (a x 3), B^T (a x a) of F(m, 3) on the finite `points` plus infinity."""
    r = 3
    a = m + r - 1
    p = np.array(points, dtype=np.float64)
    at = np.zeros((m, a))
    for j, pj in enumerate(p):
        at[:, j] = pj ** np.arange(m)
    at[m - 1, a - 1] = 1
    g = np.zeros((a, r))
    for j, pj in enumerate(p):
        g[j] = pj ** np.arange(r) / np.prod([pj - pl for l, pl in enumerate(p) if l != j])
    g[a - 1, r - 1] = 1
    # B^T from the defining identity A^T diag(G e_k) B^T = T_k, T_k[i][i + k] = 1, solved in least squares.
    rows, rhs = [], []
    for k in range(r):
        left = at * (g @ np.eye(r)[k])[None, :]            # m x a
        target = np.zeros((m, a))
        for i in range(m):
            target[i, i + k] = 1
        for i in range(m):
            for col in range(a):                              # (left @ B^T)[i][col] = target[i][col]
                row = np.zeros((a, a))
                row[:, col] = left[i]
                rows.append(row.ravel())
                rhs.append(target[i, col])
    bt = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0].reshape(a, a)
    return at, g, bt


def winograd(x, w, m, points, rounding):
    at, g, bt = (t.astype(np.float32) for t in cook_toom(m, points))
    a = m + 2
    h, wd, ci = x.shape
    co = w.shape[3]
    padded = np.zeros((h + 2 + a, wd + 2 + a, ci), dtype=np.float32)
    padded[1:h + 1, 1:wd + 1] = x
    u = np.einsum("ak,klio,bl->abio", g, w, g).astype(np.float32)           # a x a x ci x co
    u = rounding(u)
    out = np.zeros((h, wd, co), dtype=np.float32)
    for ty in range(0, h, m):
        for tx in range(0, wd, m):
            d = padded[ty:ty + a, tx:tx + a]                                    # a x a x ci
            v = rounding(np.einsum("ak,kli,bl->abi", bt, d, bt).astype(np.float32))
            prod = np.einsum("abi,abio->abo", v, u, dtype=np.float32)           # float32 sums
            y = np.einsum("ma,abo,nb->mno", at, prod, at).astype(np.float32)
            out[ty:ty + m, tx:tx + m] = y[:min(m, h - ty), :min(m, wd - tx)]
    return out


def direct(x, w, dtype, rounding=lambda t: t):
    h, wd, ci = x.shape
    padded = np.zeros((h + 2, wd + 2, ci), dtype=dtype)
    padded[1:h + 1, 1:wd + 1] = rounding(x)
    wr = rounding(w).astype(dtype)
    out = np.zeros((h, wd, w.shape[3]), dtype=dtype)
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("hwi,io->hwo", padded[ky:ky + h, kx:kx + wd], wr[ky, kx], dtype=dtype)
    return out


def main():
    rng = np.random.default_rng(7)
    size, channels = 36, 256
    x = np.maximum(rng.standard_normal((size, size, channels)), 0).astype(np.float32)
    w = (rng.standard_normal((3, 3, channels, channels)) * np.sqrt(2 / (9 * channels))).astype(np.float32)
    reference = direct(x.astype(np.float64), w.astype(np.float64), np.float64)
    scale = np.sqrt(np.mean(reference ** 2))
    f6 = [0, 1, -1, 2, -2, 0.5, -0.5]
    f4 = [0, 1, -1, 2, -2]
    cases = [
        ("float32 direct", direct(x, w, np.float32)),
        ("float32 Winograd F(4x4,3x3)", winograd(x, w, 4, f4, lambda t: t)),
        ("float32 Winograd F(6x6,3x3)", winograd(x, w, 6, f6, lambda t: t)),
        ("bfloat16 direct", direct(x, w, np.float32, bf16)),
        ("bfloat16 Winograd F(4x4,3x3)", winograd(x, w, 4, f4, bf16)),
        ("bfloat16 Winograd F(6x6,3x3)", winograd(x, w, 6, f6, bf16)),
    ]
    print("| arithmetic | RMS error / RMS output | max error / RMS output |")
    print("|---|---|---|")
    for name, out in cases:
        error = out.astype(np.float64) - reference
        print(f"| {name} | {np.sqrt(np.mean(error ** 2)) / scale:.2e} | {np.max(np.abs(error)) / scale:.2e} |")


if __name__ == "__main__":
    main()
