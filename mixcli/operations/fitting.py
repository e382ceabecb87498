"""Placing a whole image into a box of the output (ResizeMix's box, a Mosaic quadrant): --fit.

stretch: resized to the box, whatever its aspect (the default, as the papers do it);
cover: aspect kept, scaled to cover the box, centred and cropped to it;
contain: aspect kept, scaled to fit inside the box, centred, the rest filled with --fill.
Objects keep their shape under cover and contain, which detection needs.
"""

from ..options import one_of, option, within
from ..records import Box, Placement

FITS = ("stretch", "cover", "contain")


def fit_option():
    return option("stretch", "How a whole image fills its box: stretch (resized to it), cover (aspect kept, cropped centred) or contain (aspect kept, padded with --fill).", metavar="|".join(FITS), check=one_of(*FITS))


def fill_option():
    return option(114, "Gray level of --fit contain's padding, 0-255.", metavar="0-255", check=within(0, 255))


def place(img, box: Box, out, fit: str, fill_level: int, interpolation: str) -> Placement:
    """Paint img into box of out as fit says; return how its pixels reached out."""
    from ..pixels.checked import fill, paste
    from ..pixels.codec import resize

    y1, y2, x1, x2 = box
    bh, bw = y2 - y1, x2 - x1
    h, w = img.shape[:2]
    if bh <= 0 or bw <= 0:  # an empty box: nothing of img is seen
        return Placement(bw / w, bh / h, x1, y1, box)
    if fit == "stretch":
        rw, rh = bw, bh
    else:
        s = max(bw / w, bh / h) if fit == "cover" else min(bw / w, bh / h)
        rw, rh = max(1, round(w * s)), max(1, round(h * s))
        if fit == "cover":
            rw, rh = max(rw, bw), max(rh, bh)
        else:
            rw, rh = min(rw, bw), min(rh, bh)
    resized = resize(img, (rw, rh), interpolation)
    if fit == "contain":
        py, px = (bh - rh) // 2, (bw - rw) // 2
        seen = Box(y1 + py, y1 + py + rh, x1 + px, x1 + px + rw)
        if (rw, rh) != (bw, bh):
            fill(out, box, fill_level)
        paste(resized, seen, out, origin=(0, 0))
        return Placement(rw / w, rh / h, seen.x1, seen.y1, seen)
    cy, cx = (rh - bh) // 2, (rw - bw) // 2  # cover's crop (0 for stretch)
    paste(resized, box, out, origin=(cy, cx))
    return Placement(rw / w, rh / h, x1 - cx, y1 - cy, box)
