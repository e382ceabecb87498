"""Mosaic (YOLOv4's, as keras-cv's Mosaic), for classification: four images around a random centre.

The row's image and the next three rows of its cycle, each resized whole into one quadrant of a
canvas of the row's image size: top-left, top-right, bottom-left, bottom-right, in that order.
Centre cx ~ U{int(W*lo)..int(W*hi)}, cy ~ U{int(H*lo)..int(H*hi)}; label weights are quadrant areas.
"""

from dataclasses import dataclass

from ..options import option, pair_range
from ..records import Box
from .base import Operation, Painted
from .fitting import fill_option, fit_option, place
from .geometry import area, uniform_int


def quadrants(h: int, w: int, lo: float, hi: float, u) -> list[Box]:
    """The four boxes (top-left, top-right, bottom-left, bottom-right) around the drawn centre."""
    cx = int(w * lo) + uniform_int(u[0], int(w * hi) - int(w * lo) + 1)
    cy = int(h * lo) + uniform_int(u[1], int(h * hi) - int(h * lo) + 1)
    return [Box(0, cy, 0, cx), Box(0, cy, cx, w), Box(cy, h, 0, cx), Box(cy, h, cx, w)]


@dataclass(frozen=True)
class Mosaic(Operation):
    name = "mosaic"
    summary = "Four images in the quadrants around a random centre; label weights by area."
    sources = 4
    over_base = False  # the row's own image is resized into the canvas: they cannot be one array

    offset: tuple[float, float] = option((0.25, 0.75), "Range of the centre, as fractions of each side.", metavar="LO HI", check=pair_range())
    fit: str = fit_option()
    fill: int = fill_option()

    def draw(self, n: int, streams) -> dict:
        return {"u": streams(0).random((n, 2))}

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        h, w = out.shape[:2]
        boxes = quadrants(h, w, *self.offset, row["u"])
        placements = tuple(place(img, box, out, self.fit, self.fill, interpolation) for img, box in zip(images, boxes))
        return Painted(self.name, tuple(area(box) / (h * w) for box in boxes), tuple(boxes), placements=placements)
