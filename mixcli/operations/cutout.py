"""Cutout (DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with
Cutout", 2017; keras-cv RandomCutout): square holes filled with one gray level, labels unchanged.

Side s = int(hole_size * min(H, W)); centre (cy, cx) uniform over all pixels; rows
[cy - s//2, cy - s//2 + s) and columns likewise, clipped to the image.
"""

from dataclasses import dataclass

from ..errors import UsageError
from ..options import at_least, option, within
from ..records import Box
from .base import Operation, Painted, own
from .geometry import uniform_int


def hole(h: int, w: int, s: int, uy: float, ux: float) -> Box:
    y0 = uniform_int(uy, h) - s // 2
    x0 = uniform_int(ux, w) - s // 2
    return Box(max(y0, 0), min(max(y0 + s, 0), h), max(x0, 0), min(max(x0 + s, 0), w))


def _gray(flag: str, value: int) -> None:
    if not 0 <= value <= 255:
        raise UsageError(f"{flag} must be a gray level in [0, 255], got {value}")


@dataclass(frozen=True)
class Cutout(Operation):
    name = "cutout"
    summary = "Fill square holes of each row with a gray level; labels unchanged."
    sources = 1

    holes: int = option(1, "Number of square holes per image.", metavar="N", check=at_least(1))
    hole_size: float = option(0.5, "Hole side as a fraction of the image's shorter side, in [0, 1].", check=within(0, 1))
    fill: int = option(0, "Gray level the holes are filled with, 0-255.", metavar="0-255", check=_gray)

    def draw(self, n: int, streams) -> dict:
        return {"u": streams(0).random((n, self.holes, 2))}

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        from ..pixels.checked import fill

        a = images[0]
        h, w = a.shape[:2]
        s = int(self.hole_size * min(h, w))
        boxes = tuple(hole(h, w, s, uy, ux) for uy, ux in row["u"])
        if out is not a:
            out[...] = a
        for box in boxes:
            fill(out, box, self.fill)
        return Painted(self.name, (1.0,), boxes, placements=(own(a.shape, boxes),))
