"""Cutout (DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with
Cutout", 2017; keras-cv RandomCutout): square holes filled with one gray level, labels unchanged.

Side s = int(hole_size * min(H, W)); centre (cy, cx) uniform over all pixels; rows
[cy - s//2, cy - s//2 + s) and columns likewise, clipped to the image.
"""

from ..errors import UsageError
from .base import Operation, Param, Record
from .geometry import uniform_int


def hole(h: int, w: int, s: int, uy: float, ux: float) -> tuple[int, int, int, int]:
    y0 = uniform_int(uy, h) - s // 2
    x0 = uniform_int(ux, w) - s // 2
    return max(y0, 0), min(max(y0 + s, 0), h), max(x0, 0), min(max(x0 + s, 0), w)


class Cutout(Operation):
    name = "cutout"
    summary = "Fill square holes of each row with a gray level; labels unchanged."
    sources = 1
    params = (
        Param("holes", 1, "Number of square holes per image.", type=int, metavar="N"),
        Param("hole_size", 0.5, "Hole side as a fraction of the image's shorter side, in [0, 1]."),
        Param("fill", 0, "Gray level the holes are filled with, 0-255.", type=int, metavar="0-255"),
    )

    def check(self, p: dict) -> None:
        if p["holes"] < 1:
            raise UsageError(f"--holes must be >= 1, got {p['holes']}")
        if not 0 <= p["hole_size"] <= 1:
            raise UsageError(f"--hole-size must be in [0, 1], got {p['hole_size']}")
        if not 0 <= p["fill"] <= 255:
            raise UsageError(f"--fill must be a gray level in [0, 255], got {p['fill']}")

    def draw(self, n: int, p: dict, streams) -> dict:
        return {"u": streams(0).random((n, p["holes"], 2))}

    def paint(self, images: list, row: dict, p: dict, out) -> Record:
        from ..ops import fill

        a = images[0]
        h, w = a.shape[:2]
        s = int(p["hole_size"] * min(h, w))
        boxes = tuple(hole(h, w, s, uy, ux) for uy, ux in row["u"])
        if out is not a:
            out[...] = a
        for box in boxes:
            fill(out, box, p["fill"])
        return Record(self.name, (1.0,), boxes)
