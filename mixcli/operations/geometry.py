"""Boxes in integer pixels from unit uniforms, in plain Python (exact, and light to import).

Every box is a mixcli.records.Box, half-open (y1, y2, x1, x2): rows y1..y2-1, columns x1..x2-1;
H is the number of rows, W of columns (the CutMix reference code swaps them; see ANCHORS.md).
"""

import math

from ..records import Box


def uniform_int(u: float, k: int) -> int:
    """Map a uniform u in [0, 1) to an integer uniform in 0..k-1."""
    return min(int(u * k), k - 1)


def centred_box(h: int, w: int, cut_h: int, cut_w: int, uy: float, ux: float) -> Box:
    """The CutMix placement: centre uniform over all pixels, sides cut_h x cut_w, clipped to the image."""
    cy, cx = uniform_int(uy, h), uniform_int(ux, w)
    y1, y2 = min(max(cy - cut_h // 2, 0), h), min(max(cy + cut_h // 2, 0), h)
    x1, x2 = min(max(cx - cut_w // 2, 0), w), min(max(cx + cut_w // 2, 0), w)
    return Box(y1, y2, x1, x2)


def cutmix_box(h: int, w: int, lam: float, u, minmax: tuple[float, float] | None = None) -> Box:
    """The CutMix box in an h x w image, from lam and four uniforms u.

    Without minmax: cut ratio sqrt(1-lam), centre uniform over all pixels, box clipped.
    With minmax (lo, hi): sides uniform in [int(h*lo), int(h*hi)] and [int(w*lo), int(w*hi)],
    placed fully inside the image, every position reachable.
    """
    if minmax is None:
        r = math.sqrt(1.0 - lam)
        return centred_box(h, w, int(h * r), int(w * r), u[0], u[1])
    lo, hi = minmax
    cut_h = int(h * lo) + uniform_int(u[2], int(h * hi) - int(h * lo) + 1)
    cut_w = int(w * lo) + uniform_int(u[3], int(w * hi) - int(w * lo) + 1)
    y1 = uniform_int(u[0], h - cut_h + 1)
    x1 = uniform_int(u[1], w - cut_w + 1)
    return Box(y1, y1 + cut_h, x1, x1 + cut_w)


def area(box: Box) -> int:
    y1, y2, x1, x2 = box
    return (y2 - y1) * (x2 - x1)


def box_lam(h: int, w: int, box: Box) -> float:
    """The share of an h x w image outside the box: the weight of the base image."""
    return 1.0 - area(box) / (h * w)
