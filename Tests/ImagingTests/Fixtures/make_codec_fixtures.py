"""Regenerates the codec fixtures of ImagingTests (run with any Python that has Pillow).

cmyk-adobe.jpg: 32×32 CMYK JPEG as Photoshop writes them (inverted samples, Adobe APP14 marker), four 16×16
quadrants: red, green / blue, 50% grey (K only). Pillow stores CMYK inverted ("CMYK;I") and libjpeg adds the marker.
progressive.jpg: 40×24 progressive RGB JPEG (libjpeg's default scan script, 10 scans) of a smooth gradient,
red = 6x + 8, green = 10y + 4, blue = 128.
"""
from pathlib import Path

from PIL import Image

here = Path(__file__).parent
quadrants = [
    ((0, 0), (0, 255, 255, 0)),  # red
    ((16, 0), (255, 0, 255, 0)),  # green
    ((0, 16), (255, 255, 0, 0)),  # blue
    ((16, 16), (0, 0, 0, 128)),  # grey
]
image = Image.new("CMYK", (32, 32))
for (x, y), colour in quadrants:
    image.paste(colour, (x, y, x + 16, y + 16))
image.save(here / "cmyk-adobe.jpg", quality=95, subsampling=0)

gradient = Image.new("RGB", (40, 24))
gradient.putdata([(6 * x + 8, 10 * y + 4, 128) for y in range(24) for x in range(40)])
gradient.save(here / "progressive.jpg", quality=95, subsampling=0, progressive=True)
