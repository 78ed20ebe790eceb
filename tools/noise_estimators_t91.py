#!/usr/bin/env python3
"""Compares published single-image noise-level estimators on T91 with synthetic Gaussian noise of known sigma (the
study behind the noise estimate of issue #19). For each sigma it prints the mean, median and largest error of each
estimator over the T91 images (luma, noise added, rounded and clipped to 0..255 as a saved 8-bit file is).

    .build/opencv-venv/bin/pip install scipy
    .build/opencv-venv/bin/python tools/noise_estimators_t91.py [--every 3]

Estimators: Immerkaer 1996 with Tai & Yang 2008's edge exclusion (Laplacian on the 90% least-edgy pixels); Chen,
Zhu & Heng 2015 (eigenvalues of the covariance of all 8x8 patches); Liu, Tanaka & Okutomi 2013 (the smallest
eigenvalue of the covariance of weak-texture 7x7 patches, selected iteratively by their gradient energy).
"""
import argparse
import glob
import os

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view as windows
from scipy.stats import gamma

T91 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets", "T91")


def tai_yang(y, edge_fraction=0.1):
    gx = cv2.Sobel(y, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(y, cv2.CV_64F, 0, 1, ksize=3)
    g = (np.abs(gx) + np.abs(gy))[1:-1, 1:-1]
    laplacian = cv2.filter2D(y, cv2.CV_64F, np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64))[1:-1, 1:-1]
    flat = g < np.quantile(g, 1 - edge_fraction)
    return np.sqrt(np.pi / 2) * np.abs(laplacian[flat]).sum() / (6 * flat.sum())


def chen(y, d=8):
    patches = windows(y, (d, d)).reshape(-1, d * d)
    patches = patches - patches.mean(axis=0)
    eigenvalues = np.sort(np.linalg.eigvalsh(patches.T @ patches / len(patches)))[::-1]
    for i in range(len(eigenvalues)):
        tail = eigenvalues[i:]
        tau = tail.mean()
        if np.sum(tail > tau) == np.sum(tail < tau):
            return np.sqrt(max(tau, 0))
    return np.sqrt(max(eigenvalues[-1], 0))


def derivative_matrix(kernel, size):
    rows, cols = kernel.shape
    out = []
    for i in range(size - rows + 1):
        for j in range(size - cols + 1):
            image = np.zeros((size, size))
            image[i:i + rows, j:j + cols] = kernel
            out.append(image.ravel())
    return np.array(out)


def liu(y, p=7, confidence=1 - 1e-6, iterations=3):
    kh = np.array([[-0.5, 0, 0.5]])
    dh = derivative_matrix(kh, p)
    dv = derivative_matrix(kh.T, p)
    dd = dh.T @ dh + dv.T @ dv
    rank = np.linalg.matrix_rank(dd)
    tau0 = gamma.ppf(confidence, rank / 2, scale=2 * np.trace(dd) / rank)
    gh = ((y[:, 2:] - y[:, :-2]) * 0.5) ** 2
    gv = ((y[2:, :] - y[:-2, :]) * 0.5) ** 2
    patches = windows(y, (p, p)).reshape(-1, p * p)
    texture = windows(gh, (p, p - 2)).reshape(-1, p * (p - 2)).sum(1) + windows(gv, (p - 2, p)).reshape(-1, (p - 2) * p).sum(1)

    def smallest_eigenvalue(x):
        x = x - x.mean(axis=0)
        return np.linalg.eigvalsh(x.T @ x / (len(x) - 1))[0]

    variance = smallest_eigenvalue(patches)
    for _ in range(iterations):
        keep = texture < variance * tau0
        if keep.sum() < 2 * p * p:
            break
        texture, patches = texture[keep], patches[keep]
        variance = smallest_eigenvalue(patches)
    return np.sqrt(max(variance, 0))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--every", type=int, default=1, help="use every n-th T91 image")
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(T91, "*.png")))[::args.every]
    rng = np.random.default_rng(1)
    estimators = {"Tai-Yang 2008": tai_yang, "Chen 2015": chen, "Liu 2013": liu}
    print(f"{len(files)} T91 images")
    for sigma in [0, 2, 5, 10, 20]:
        errors = {name: [] for name in estimators}
        for path in files:
            luma = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2YCrCb)[:, :, 0].astype(np.float64)
            noisy = np.clip(np.round(luma + rng.normal(0, sigma, luma.shape)), 0, 255) if sigma else luma
            for name, estimate in estimators.items():
                errors[name].append(estimate(noisy) - sigma)
        for name, values in errors.items():
            values = np.array(values)
            print(f"sigma {sigma:2d}  {name:14s} mean error {values.mean():+.2f}  median {np.median(values):+.2f}  "
                  f"largest {np.abs(values).max():.2f}  within 1: {(np.abs(values) <= 1).sum()}/{len(values)}")


if __name__ == "__main__":
    main()
