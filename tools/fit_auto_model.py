#!/usr/bin/env python3
"""Fits `--model auto` (Sources/Pipeline/Auto/AutoModelTable.swift) on T91, never on the evaluation sets.

Step 1 (measure): `superres eval` on T91 at ×3 for each training degradation (clean, JPEG at ten qualities, Gaussian
noise at three levels, noise followed by JPEG at five pairs), with srmd-x3 at a grid of noise levels (one JSON per
degradation in --measurements) and the clean model `auto` runs at ×3 (--clean, default span-ch52-x4, its result shrunk
to ×3; one JSON per degradation in --measurements/clean-NAME); all kept, so a second run only fits, and a new clean
model measures only itself. Each image's JSON carries the degradation estimate
of its LR (JPEG quality from the file, blockiness and noise σ from the pixels), the features the policy sees.

The features are measured again by the given binary on every run (bicubic only, seconds), so a change to the
estimators is refitted without new network runs.

Step 2 (fit): the policy of AutoModelPolicy.swift,
    level = sqrt(L(q)^2 + (w * max(sigma - sigma0, 0))^2),  clean model when level < cut (another cut for JPEG files),
with q the JPEG quality (the file's own; for pictures that are not JPEG files, the quality their blockiness points
to), L piecewise linear over fixed quality knots. Its numbers are chosen to maximise the mean PSNR over every T91
image and degradation, a level between two measured ones scoring the linear interpolation of their PSNRs. The
blockiness-to-quality table is the median blockiness of T91 at each JPEG quality.

Step 3: writes AutoModelTable.swift and a Markdown report of the fit (--report).

Usage: tools/fit_auto_model.py --superres .build/release/superres --t91 ../shared/datasets/T91 \
           --measurements .build/auto-fit [--table Sources/Pipeline/Auto/AutoModelTable.swift] [--report FILE]
(SUPERRES_MODELS must point at a store with srmd-x3 and the clean model.)
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

SCALE = 3
LEVELS = [0, 3, 6, 9, 12, 15, 20, 25, 30, 40, 50]
DEGRADATIONS = (
    ["none"]
    + [f"jpeg:{q}" for q in (10, 20, 30, 40, 50, 60, 70, 80, 90, 95)]
    + [f"noise:{s}" for s in (3, 8, 15)]
    + [f"noise:{s}+jpeg:{q}" for s, q in ((3, 95), (5, 95), (8, 95), (5, 80), (10, 90))]
)
QUALITY_KNOTS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
CLEAN = "span-ch52-x4"


def file_name(spec):
    return spec.replace(":", "").replace("+", "_") + ".json"


def measure_features(args):
    """The estimates of every degraded LR by the current binary (bicubic only: seconds), so that a change of the
    estimators needs no new network runs (the LR pictures are the same: the noise is seeded by the image name)."""
    folder = os.path.join(args.measurements, "features")
    os.makedirs(folder, exist_ok=True)
    for spec in DEGRADATIONS:
        path = os.path.join(folder, file_name(spec))
        command = [args.superres, "eval", "--dataset", args.t91, "--scale", str(SCALE), "--degrade", spec,
                   "--json", path + ".part"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        os.replace(path + ".part", path)


def measure(args):
    os.makedirs(args.measurements, exist_ok=True)
    clean_folder = os.path.join(args.measurements, f"clean-{CLEAN}")
    os.makedirs(clean_folder, exist_ok=True)
    for spec in DEGRADATIONS:
        path = os.path.join(args.measurements, file_name(spec))
        if not os.path.exists(path):
            print(f"measuring T91 {spec}: srmd-x3", file=sys.stderr, flush=True)
            command = [args.superres, "eval", "--dataset", args.t91, "--scale", str(SCALE), "--model", "srmd-x3",
                       "--noise", *map(str, LEVELS), "--degrade", spec, "--json", path + ".part"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            os.replace(path + ".part", path)
        clean_path = os.path.join(clean_folder, file_name(spec))
        if not os.path.exists(clean_path):
            print(f"measuring T91 {spec}: {CLEAN}", file=sys.stderr, flush=True)
            command = [args.superres, "eval", "--dataset", args.t91, "--scale", str(SCALE), "--model", CLEAN,
                       "--degrade", spec, "--json", clean_path + ".part"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            os.replace(clean_path + ".part", clean_path)


def load(args):
    """Per (degradation, image): the features (from the features run) and the PSNR of the clean model and of each
    level."""
    samples = []
    for spec in DEGRADATIONS:
        path = os.path.join(args.measurements, file_name(spec))
        rows = {row["model"]: row for row in json.load(open(path))["rows"]}
        clean_path = os.path.join(args.measurements, f"clean-{CLEAN}", file_name(spec))
        rows.update({row["model"]: row for row in json.load(open(clean_path))["rows"] if row["model"] == CLEAN})
        features = json.load(open(os.path.join(args.measurements, "features", file_name(spec))))["rows"][0]["images"]
        for i, image in enumerate(rows[CLEAN]["images"]):
            assert features[i]["image"] == image["image"], (spec, features[i]["image"], image["image"])
            estimate = features[i].get("estimate") or {}
            samples.append({
                "degradation": spec,
                "image": image["image"],
                "quality": estimate.get("jpegQuality"),
                "blockiness": estimate.get("blockiness") or 1.0,
                "sigma": estimate.get("noiseSigma") or 0.0,
                "clean": image["psnr"],
                "levels": np.array([rows[f"srmd-x3 n{level}"]["images"][i]["psnr"] for level in LEVELS]),
            })
    return samples


def interpolate(x, xs, ys):
    return float(np.interp(x, xs, ys))


def fit_blockiness(samples):
    """Median blockiness of T91 at each JPEG quality (JPEG-only degradations), and the clean cut."""
    clean = np.array([s["blockiness"] for s in samples if s["degradation"] == "none"])
    cut = float(np.percentile(clean, 95))
    table = []
    for q in (95, 90, 80, 70, 60, 50, 40, 30, 20, 10):
        values = [s["blockiness"] for s in samples if s["degradation"] == f"jpeg:{q}"]
        table.append((float(np.median(values)), float(q)))
    # Keep it increasing in blockiness (decreasing quality), starting above the clean cut.
    monotone = []
    for b, q in table:
        if b > cut and (not monotone or b > monotone[-1][0]):
            monotone.append((b, q))
    return cut, monotone


def quality_from_blockiness(b, cut, table):
    if b <= cut:
        return 100.0
    xs = [cut] + [t[0] for t in table]
    ys = [100.0] + [t[1] for t in table]
    return interpolate(b, xs, ys)


def score(samples, qualities, params, as_png=False):
    """Mean PSNR of the policy with `params` = (knot levels..., w, sigma0, cut, JPEG-file cut)."""
    return float(np.mean(policy_psnr(Arrays(samples, qualities, as_png), params)))


class Arrays:
    """The samples as arrays, for scoring many parameter sets quickly."""

    def __init__(self, samples, qualities, as_png=False):
        self.quality = np.array(qualities, dtype=float)
        self.is_jpeg = np.array([s["quality"] is not None and not as_png for s in samples])
        self.sigma = np.array([s["sigma"] for s in samples])
        self.clean = np.array([s["clean"] for s in samples])
        self.levels = np.array([s["levels"] for s in samples])


def policy_psnr(arrays, params):
    """Each sample's PSNR under the policy: the rule of AutoModelPolicy.swift, a level between two measured ones
    scoring the linear interpolation of their PSNRs."""
    knots = params[:len(QUALITY_KNOTS)]
    w, sigma0, cut, jpeg_cut = params[len(QUALITY_KNOTS):]
    compression = np.interp(arrays.quality, QUALITY_KNOTS, knots)
    noise = w * np.maximum(arrays.sigma - sigma0, 0.0)
    level = np.sqrt(compression ** 2 + noise ** 2)
    chosen = np.clip(np.floor(level + 0.5), 0, LEVELS[-1])  # Swift rounds halves up
    grid = np.array(LEVELS, dtype=float)
    upper = np.clip(np.searchsorted(grid, chosen), 1, len(grid) - 1)
    lower = upper - 1
    t = (chosen - grid[lower]) / (grid[upper] - grid[lower])
    rows = np.arange(len(chosen))
    srmd = arrays.levels[rows, lower] * (1 - t) + arrays.levels[rows, upper] * t
    return np.where(level < np.where(arrays.is_jpeg, jpeg_cut, cut), arrays.clean, srmd)


# A clean input may lose at most this much (dB, mean over clean T91) against the clean model: a clean picture is
# the common case, and the gain on degraded ones must not be paid for by it.
CLEAN_TOLERANCE = 0.02


def objective(arrays, params, clean_mask):
    """Mean PSNR over everything, minus a steep penalty where clean pictures lose more than CLEAN_TOLERANCE; the
    level may not rise with the quality (a better JPEG never needs more denoising)."""
    knots = params[:len(QUALITY_KNOTS)]
    if any(a < b for a, b in zip(knots, knots[1:])):
        return -np.inf
    psnr = policy_psnr(arrays, params)
    loss = float(np.mean(arrays.clean[clean_mask]) - np.mean(psnr[clean_mask]))
    return float(np.mean(psnr)) - 20 * max(0.0, loss - CLEAN_TOLERANCE)


def fit_policy(samples, qualities):
    arrays = Arrays(samples, qualities)
    clean_mask = np.array([s["degradation"] == "none" for s in samples])
    # Knots start at the best single level of the JPEG-only degradations at each quality (L(100) = 0: an
    # uncompressed, noiseless picture goes to the clean model); then a grid over the noise weight, the noise floor
    # and the clean cut; then coordinate descent over everything from the best grid point, with shrinking steps.
    knots = []
    for q in QUALITY_KNOTS:
        idx = [i for i, s in enumerate(samples) if s["degradation"] == f"jpeg:{q}"]
        knots.append(float(LEVELS[int(np.argmax(np.mean(arrays.levels[idx], axis=0)))]) if idx else 0.0)
    best, params = -np.inf, None
    for w in np.arange(0.0, 4.01, 0.25):
        for sigma0 in np.arange(0.0, 4.01, 0.25):
            for cut in np.arange(0.5, 8.01, 0.5):
                for jpeg_cut in np.arange(0.5, 8.01, 0.5):
                    trial = knots + [w, sigma0, cut, jpeg_cut]
                    value = objective(arrays, trial, clean_mask)
                    if value > best:
                        best, params = value, trial
    steps = [2.0] * len(QUALITY_KNOTS) + [0.25, 0.25, 0.5, 0.5]
    bounds = ([(0.0, 50.0)] * (len(QUALITY_KNOTS) - 1) + [(0.0, 0.0)]
              + [(0.0, 6.0), (0.0, 6.0), (0.5, 10.0), (0.5, 10.0)])
    for _ in range(6):
        improved = True
        while improved:
            improved = False
            for k in range(len(params)):
                for direction in (-1, 1):
                    trial = list(params)
                    trial[k] = min(max(trial[k] + direction * steps[k], bounds[k][0]), bounds[k][1])
                    value = objective(arrays, trial, clean_mask)
                    if value > best + 1e-9:
                        best, params, improved = value, trial, True
        steps = [step / 2 for step in steps]
    return params, score(samples, qualities, params)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--superres", default=".build/release/superres")
    parser.add_argument("--t91", default="../shared/datasets/T91")
    parser.add_argument("--measurements", default=".build/auto-fit")
    parser.add_argument("--table", default="Sources/Pipeline/Auto/AutoModelTable.swift")
    parser.add_argument("--report", default="docs/auto-model-fit.md")
    args = parser.parse_args()
    measure(args)
    measure_features(args)
    samples = load(args)
    cut, blockiness_table = fit_blockiness(samples)
    # Fit on the file's own quality (JPEG files) ...
    file_qualities = [float(s["quality"]) if s["quality"] is not None else
                      quality_from_blockiness(s["blockiness"], cut, blockiness_table) for s in samples]
    params, best = fit_policy(samples, file_qualities)
    knots = params[:len(QUALITY_KNOTS)]
    w, sigma0, clean_cut, jpeg_cut = params[len(QUALITY_KNOTS):]
    # ... and report how the same policy does when the JPEGs arrive as PNGs (blockiness only).
    png_qualities = [quality_from_blockiness(s["blockiness"], cut, blockiness_table) for s in samples]
    as_png = score(samples, png_qualities, params, as_png=True)
    write_table(args.table, cut, blockiness_table, knots, w, sigma0, clean_cut, jpeg_cut)
    write_report(args.report, samples, file_qualities, png_qualities, params, best, as_png, cut, blockiness_table)


def write_table(path, cut, blockiness_table, knots, w, sigma0, clean_cut, jpeg_cut):
    def number(x):
        return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x - round(x)) > 1e-9 else f"{round(x)}"
    blockiness = ", ".join(f"({b:.3f}, {number(q)})" for b, q in blockiness_table)
    levels = ", ".join(f"({number(q)}, {number(l)})" for q, l in zip(QUALITY_KNOTS, knots))
    text = f"""// Written by tools/fit_auto_model.py from measurements on T91 only; run it again rather than editing by hand.

/// The numbers of `AutoModelPolicy`, fitted on T91 (91 training pictures, ×3, {len(DEGRADATIONS)} degradations: clean,
/// JPEG, Gaussian noise, noise then JPEG) by tools/fit_auto_model.py; the fit is reported in docs/auto-model-fit.md.
package enum AutoModelTable {{
    /// Blockiness at or below which a picture is taken as never compressed (the 95th percentile on clean T91).
    package static let cleanBlockiness = {cut:.3f}
    /// The median blockiness of T91 saved at each JPEG quality, highest blockiness last.
    package static let blockinessQualities: [(blockiness: Double, quality: Double)] = [
        {blockiness},
    ]
    /// The noise level that compression alone calls for at each JPEG quality.
    package static let qualityLevels: [(quality: Double, level: Double)] = [
        {levels},
    ]
    /// The weight of the estimated noise σ in the level.
    package static let noiseWeight = {w:.4f}
    /// The σ the estimator reads on clean pictures, subtracted before weighting.
    package static let noiseFloor = {sigma0:.4f}
    /// Levels under this go to the clean model (pictures that are not JPEG files).
    package static let cleanBelow = {clean_cut:.4f}
    /// Levels under this go to the clean model (JPEG files: their tables already say they were compressed).
    package static let cleanBelowJPEG = {jpeg_cut:.4f}
    /// The levels the policy chooses from.
    package static let levelRange = 0...50
}}
"""
    with open(path, "w") as f:
        f.write(text)


def write_report(path, samples, file_qualities, png_qualities, params, best, as_png, cut, blockiness_table):
    knots = params[:len(QUALITY_KNOTS)]
    w, sigma0, clean_cut, jpeg_cut = params[len(QUALITY_KNOTS):]
    lines = ["# How `--model auto` was fitted (T91, ×3)", "",
             "Written by `tools/fit_auto_model.py`; T91 only, never the evaluation sets. Mean PSNR (dB, Y) per "
             "training degradation: the clean model, SRMD at the best single level for that degradation "
             "(an oracle that knows the degradation), and the fitted policy (which sees only the file: JPEG quality "
             "from its tables, blockiness and noise σ from its pixels). \"as PNG\" is the same policy when the "
             "degraded pictures arrive as lossless files, so only blockiness tells of the JPEG.", "",
             f"| degradation | {CLEAN} | best fixed SRMD level | policy | policy, as PNG | median σ̂ | median blockiness |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for spec in DEGRADATIONS:
        idx = [i for i, s in enumerate(samples) if s["degradation"] == spec]
        clean = np.mean([samples[i]["clean"] for i in idx])
        per_level = np.mean([samples[i]["levels"] for i in idx], axis=0)
        k = int(np.argmax(per_level))
        policy = score([samples[i] for i in idx], [file_qualities[i] for i in idx], params)
        png = score([samples[i] for i in idx], [png_qualities[i] for i in idx], params, as_png=True)
        sigma = np.median([samples[i]["sigma"] for i in idx])
        block = np.median([samples[i]["blockiness"] for i in idx])
        lines.append(f"| {spec} | {clean:.2f} | {per_level[k]:.2f} (n{LEVELS[k]}) | {policy:.2f} | {png:.2f} | "
                     f"{sigma:.2f} | {block:.3f} |")
    lines += ["", f"Mean over every image and degradation: policy {best:.3f} dB; as PNG {as_png:.3f} dB.", "",
              "Fitted numbers: noise level by JPEG quality "
              + ", ".join(f"q{q} → {l:.1f}" for q, l in zip(QUALITY_KNOTS, knots))
              + f"; noise weight {w:.3f}, noise floor σ₀ {sigma0:.3f}, clean below level {clean_cut:.3f} "
              f"({jpeg_cut:.3f} for JPEG files); "
              f"blockiness ≤ {cut:.3f} is clean, then "
              + ", ".join(f"{b:.3f} → q{q:.0f}" for b, q in blockiness_table) + ".", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
