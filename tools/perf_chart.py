#!/usr/bin/env python3
"""Draws docs/performance-edsr.svg: seconds per input megapixel against input size, superres and OpenCV, from the
JSON that `scripts/bench-vs-opencv --json FILE` writes (plain SVG, no plotting library).

    python3 tools/perf_chart.py FILE.json docs/performance-edsr.svg [--title "..."]
"""
import argparse
import json
import math


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("svg")
    ap.add_argument("--title", default="EDSR x3 (full-size fixture), 2 threads: seconds per input megapixel")
    a = ap.parse_args()
    every = sorted(json.load(open(a.json)), key=lambda r: r["width"] * r["height"])
    # Rows of `--precision fp32,bf16` runs: one OpenCV series, one superres series per precision.
    by_precision = {}
    for r in every:
        by_precision.setdefault(r.get("precision", "fp32"), []).append(r)
    rows = by_precision.get("fp32") or next(iter(by_precision.values()))
    sizes = [r["width"] for r in rows]
    labels = [f"{r['width']}×{r['height']}" for r in rows]
    series = {"OpenCV 4.14 dnn_superres": ("#d62728", [r["opencv_s"] / (r["width"] * r["height"] / 1e6) for r in rows])}
    colours = {"fp32": "#1f77b4", "bf16": "#2ca02c"}
    for precision, chosen in sorted(by_precision.items()):
        assert [r["width"] for r in chosen] == sizes, "every precision needs the same sizes"
        series[f"superres ({precision})"] = (
            colours.get(precision, "#9467bd"), [r["superres_s"] / (r["width"] * r["height"] / 1e6) for r in chosen])
    width, height = 760, 420
    left, right, top, bottom = 80, 240, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(v for _, values in series.values() for v in values) * 1.1
    x_min, x_max = math.log(min(sizes)), math.log(max(sizes))

    def x_of(size):
        return left + (math.log(size) - x_min) / max(x_max - x_min, 1e-9) * plot_w

    def y_of(value):
        return top + plot_h - value / top_value * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="24" font-size="14">{a.title}</text>',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>']
    step = 10 ** math.floor(math.log10(top_value / 5))
    step *= 2 if top_value / step > 10 else 1
    tick = 0.0
    while tick <= top_value:
        y = y_of(tick)
        out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step
    for size, label in zip(sizes, labels):
        x = x_of(size)
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 16}" text-anchor="middle">input size (log scale)</text>')
    out.append(f'<text x="18" y="{top + plot_h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top + plot_h / 2})">seconds per input megapixel</text>')
    for index, (name, (colour, values)) in enumerate(series.items()):
        points = " ".join(f"{x_of(s):.1f},{y_of(v):.1f}" for s, v in zip(sizes, values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for s, v in zip(sizes, values):
            out.append(f'<circle cx="{x_of(s):.1f}" cy="{y_of(v):.1f}" r="3.5" fill="{colour}"/>')
            out.append(f'<text x="{x_of(s) + 6:.1f}" y="{y_of(v) - 6:.1f}" fill="{colour}">{v:.1f}</text>')
        ly = top + 10 + index * 20
        out.append(f'<line x1="{left + plot_w + 16}" y1="{ly}" x2="{left + plot_w + 36}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + plot_w + 42}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    with open(a.svg, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
