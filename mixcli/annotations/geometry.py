"""Objects and label maps through a painted row, by one rule for every operation.

Each source reached the output through a Placement (mixcli.records): its pixels scaled by
(sx, sy) and shifted by (ox, oy), seen inside a window but not in its holes (and, for FMix, only
where the row's mask selects it). An object's box is mapped by its source's placement and cut
to its visible part: the output box is the bounding box of that part, in float pixels, and its
visibility the visible area over the mapped area. A label map is placed the same way with
nearest-neighbour resizing; where no source is seen (Cutout's holes, --fit contain's padding)
it holds the ignore index. Blended sources (MixUp) are all seen everywhere, each object at its
source's label weight; the map is then the heavier source's (the row's own on a tie).
"""

import math

import numpy as np

from ..records import Box, Placement

# A side this much under --min-box-size still passes: a label file's 6 decimals move a box's
# edges by up to 1e-4 px of a 100 px image, and a box read back must keep what it had.
TOLERANCE = 1e-3


def carry(sources: list, shapes: list, painted, min_visibility: float, min_box_size: float) -> tuple[list[list], int]:
    """The output objects of a painted row from each source's objects (category, boxes, crowd,
    as Objects.of gives) and decoded shape: [category, x1, y1, x2, y2, weight, visibility, crowd]
    each, sources in order; and the number of objects dropped by the thresholds."""
    kept, dropped = [], 0
    for k, ((category, boxes, crowd), shape, p) in enumerate(zip(sources, shapes, painted.placements)):
        if not len(category):
            continue
        weight = float(painted.weights[k]) if painted.blended else 1.0
        h, w = shape[:2]
        # To a millionth of a pixel: a normalised edge times the size is an integer plus float noise.
        mapped = np.round(boxes * (w * p.sx, h * p.sy, w * p.sx, h * p.sy) + (p.ox, p.oy, p.ox, p.oy), 6)
        if p.mask is None and not p.holes:  # seen inside a window only: every box at once
            found = _windowed(mapped, p.window)
        else:
            found = [visible(tuple(m), p, painted.mask) for m in mapped.tolist()]
        for c, (box, visibility), crowded in zip(category.tolist(), found, crowd.tolist()):
            if box is None or visibility < min_visibility - 1e-9 or min(box[2] - box[0], box[3] - box[1]) < min_box_size - TOLERANCE:
                dropped += 1
                continue
            kept.append([c, *map(float, box), weight, round(visibility, 6), crowded])  # 6 decimals: shorter JSON, 2x faster to write
    return kept, dropped


def _windowed(mapped: np.ndarray, win: Box) -> list[tuple]:
    """visible() of each mapped box (a row of x1 y1 x2 y2) through a window without holes."""
    full = (mapped[:, 2] - mapped[:, 0]) * (mapped[:, 3] - mapped[:, 1])
    cut = np.column_stack([np.maximum(mapped[:, 0], win.x1), np.maximum(mapped[:, 1], win.y1), np.minimum(mapped[:, 2], win.x2), np.minimum(mapped[:, 3], win.y2)])
    w, h = cut[:, 2] - cut[:, 0], cut[:, 3] - cut[:, 1]
    seen = (full > 0) & (w > 0) & (h > 0)
    share = np.where(seen, w * h / np.where(full > 0, full, 1.0), 0.0)
    return [(tuple(b), v) if ok else (None, 0.0) for b, v, ok in zip(cut.tolist(), share.tolist(), seen.tolist())]


def visible(mapped: tuple[float, float, float, float], p: Placement, mask) -> tuple[tuple | None, float]:
    """The bounding box (x1, y1, x2, y2) of the part of a mapped box seen through placement p,
    and that part's area over the mapped box's; (None, 0.0) when none of it is seen."""
    x1, y1, x2, y2 = mapped
    full = (x2 - x1) * (y2 - y1)
    win = p.window
    cx1, cy1, cx2, cy2 = max(x1, win.x1), max(y1, win.y1), min(x2, win.x2), min(y2, win.y2)
    if full <= 0 or cx2 <= cx1 or cy2 <= cy1:
        return None, 0.0
    holes = [h for h in p.holes if h.x1 < cx2 and h.x2 > cx1 and h.y1 < cy2 and h.y2 > cy1]
    if p.mask is None and not holes:
        return (cx1, cy1, cx2, cy2), (cx2 - cx1) * (cy2 - cy1) / full
    if p.mask is None and len(holes) == 1:
        return _one_hole((cx1, cy1, cx2, cy2), holes[0], full)
    if p.mask is None:
        return _cells((cx1, cy1, cx2, cy2), holes, full)
    return _pixels((cx1, cy1, cx2, cy2), holes, mask == p.mask, full)


def _one_hole(box: tuple, hole: Box, full: float) -> tuple[tuple | None, float]:
    """visible() for a box with one hole over it (CutMix's and ResizeMix's row image; _cells' result, in closed form)."""
    x1, y1, x2, y2 = box
    ix1, iy1, ix2, iy2 = max(x1, hole.x1), max(y1, hole.y1), min(x2, hole.x2), min(y2, hole.y2)
    area = (x2 - x1) * (y2 - y1) - (ix2 - ix1) * (iy2 - iy1)
    if area <= 0:
        return None, 0.0
    if iy1 == y1 and iy2 == y2:  # the hole crosses the box top to bottom: the box loses columns
        x1, x2 = (x1 if ix1 > x1 else ix2), (x2 if ix2 < x2 else ix1)
    elif ix1 == x1 and ix2 == x2:  # left to right: rows
        y1, y2 = (y1 if iy1 > y1 else iy2), (y2 if iy2 < y2 else iy1)
    return (x1, y1, x2, y2), area / full


def _cells(box: tuple, holes: list[Box], full: float) -> tuple[tuple | None, float]:
    """visible() for a box with holes: the hole edges cut it into cells wholly seen or hidden (exact)."""
    x1, y1, x2, y2 = box
    xs = sorted({x1, x2, *(v for h in holes for v in (h.x1, h.x2) if x1 < v < x2)})
    ys = sorted({y1, y2, *(v for h in holes for v in (h.y1, h.y2) if y1 < v < y2)})
    area, seen = 0.0, None
    for a, b in zip(ys, ys[1:]):
        for l, r in zip(xs, xs[1:]):
            mx, my = (l + r) / 2, (a + b) / 2
            if any(h.x1 <= mx < h.x2 and h.y1 <= my < h.y2 for h in holes):
                continue
            area += (r - l) * (b - a)
            seen = (l, a, r, b) if seen is None else (min(seen[0], l), min(seen[1], a), max(seen[2], r), max(seen[3], b))
    return (seen, area / full) if seen is not None else (None, 0.0)


def _pixels(box: tuple, holes: list[Box], shown: np.ndarray, full: float) -> tuple[tuple | None, float]:
    """visible() on a mask's pixels: each pixel the box covers counts by the share it covers."""
    x1, y1, x2, y2 = box
    c1, c2 = math.floor(x1), math.ceil(x2)
    r1, r2 = math.floor(y1), math.ceil(y2)
    seen = shown[r1:r2, c1:c2].copy()
    for h in holes:
        seen[max(h.y1 - r1, 0) : max(h.y2 - r1, 0), max(h.x1 - c1, 0) : max(h.x2 - c1, 0)] = False
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    if len(rows) == 0:
        return None, 0.0
    wx = np.minimum(np.arange(c1, c2) + 1, x2) - np.maximum(np.arange(c1, c2), x1)
    wy = np.minimum(np.arange(r1, r2) + 1, y2) - np.maximum(np.arange(r1, r2), y1)
    area = float(wy @ seen @ wx)
    bbox = (max(x1, c1 + cols[0]), max(y1, r1 + rows[0]), min(x2, c1 + cols[-1] + 1), min(y2, r1 + rows[-1] + 1))
    return bbox, area / full


def paint_map(maps: list, painted, shape, ignore: int) -> np.ndarray:
    """The output label map (HxW uint8) of a painted row from its sources' maps (each the shape
    of its decoded source)."""
    from ..pixels.codec import resize

    out = np.full(shape[:2], ignore, np.uint8)
    order = range(len(maps))
    if painted.blended:  # the heavier source's map; the row's own on a tie
        order = [max(order, key=lambda k: (painted.weights[k], -k))]
    for k in order:
        p, m = painted.placements[k], maps[k]
        h, w = m.shape
        placed = resize(m, (max(1, round(w * p.sx)), max(1, round(h * p.sy))), "nearest")
        ox, oy = round(p.ox), round(p.oy)
        win = p.window
        y1, y2 = max(win.y1, oy), min(win.y2, oy + placed.shape[0])
        x1, x2 = max(win.x1, ox), min(win.x2, ox + placed.shape[1])
        if y2 <= y1 or x2 <= x1:
            continue
        src = placed[y1 - oy : y2 - oy, x1 - ox : x2 - ox]
        seen = np.ones(src.shape, bool) if p.mask is None else painted.mask[y1:y2, x1:x2] == p.mask
        for hole in p.holes:
            seen[max(hole.y1 - y1, 0) : max(hole.y2 - y1, 0), max(hole.x1 - x1, 0) : max(hole.x2 - x1, 0)] = False
        region = out[y1:y2, x1:x2]
        region[seen] = src[seen]
    return out
