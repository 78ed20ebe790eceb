"""Checks a huge banded result against a crop enlarged alone (docs/PERFORMANCE.md, "Huge pictures").

    python3 tools/crop_check.py BIG_OUTPUT SCALE X Y WIDTH HEIGHT CROP_OUTPUT MARGIN

BIG_OUTPUT is the enlarged picture; CROP_OUTPUT is the input's region (X, Y, WIDTH, HEIGHT in input pixels)
enlarged alone by the same model. Their values are compared MARGIN input pixels in from the crop's edges (beyond
the network's context the crop's result must be the big result's, up to Winograd's rare one-level differences).
Needs Pillow and numpy (pip); Pillow's decompression-bomb guard is turned off for the gigapixel result.
"""
import sys

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None
big_output, crop_output = sys.argv[1], sys.argv[7]
scale, x, y, width, height = map(int, sys.argv[2:7])
margin = int(sys.argv[8])
small = np.asarray(Image.open(crop_output).convert("RGB")).astype(np.int16)
with Image.open(big_output) as image:
    box = (x * scale, y * scale, (x + width) * scale, (y + height) * scale)
    region = np.asarray(image.crop(box).convert("RGB")).astype(np.int16)
inset = margin * scale
difference = np.abs(small[inset:-inset, inset:-inset] - region[inset:-inset, inset:-inset])
print(
    f"compared {difference.size} values: max diff {difference.max()}, "
    f"differing {(difference > 0).sum()} ({100 * (difference > 0).mean():.4f}%)"
)
sys.exit(0 if difference.max() <= 1 and (difference > 0).mean() <= 0.001 else 1)
