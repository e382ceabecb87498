"""Rebuild the tiny binary fixtures in this folder (needs Pillow, which mixcli does not).

    python tests/data/make_fixtures.py
"""

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


def main() -> None:
    # A CMYK JPEG (OpenCV cannot write one): 6 rows x 8 columns, four flat colour bands.
    cmyk = np.zeros((6, 8, 4), np.uint8)
    cmyk[:, 0:2] = (0, 255, 255, 0)  # red
    cmyk[:, 2:4] = (255, 0, 255, 0)  # green
    cmyk[:, 4:6] = (255, 255, 0, 0)  # blue
    cmyk[:, 6:8] = (0, 0, 0, 0)  # white
    Image.fromarray(cmyk, mode="CMYK").save(HERE / "cmyk.jpg", quality=100)

    # A JPEG stored 4 rows x 6 columns with EXIF orientation 6 (display rotated 90 degrees
    # clockwise, 6 rows x 4 columns): the stored top-left pixel is red, displayed top-right.
    rgb = np.full((4, 6, 3), 255, np.uint8)
    rgb[0:2, 0:3] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(HERE / "exif_rotated.jpg", quality=100, exif=exif.tobytes())


if __name__ == "__main__":
    main()
