"""CutMix (Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with
Localizable Features", ICCV 2019).

A box of the partner (resized to the row's own image) is pasted into the row's image; the
label weight of the row's image is the share outside the box (or the drawn lam, uncorrected).
"""

from .base import Operation, Param, Record, check_alpha, check_range, match
from .geometry import box_lam, cutmix_box
from .mixup import ALPHA

MINMAX = Param(
    "minmax", None, "Box sides uniform in [LO, HI] of the image sides (instead of lam), box inside the image.",
    type=tuple[float, float] | None, metavar="LO HI",
)
CORRECT_LAM = Param(
    "correct_lam", True, "Label weight from the clipped box's area (else the drawn lam).",
    type=bool, flags=("--correct-lam/--no-correct-lam",),
)


def paint_cutmix(images: list, lam: float, u, p: dict, out) -> Record:
    from ..ops import paste

    a = images[0]
    h, w = a.shape[:2]
    box = cutmix_box(h, w, lam, u, p["minmax"])
    if out is not a:
        out[...] = a
    paste(match(images[1], a.shape), box, out)
    lam = box_lam(h, w, box) if p["correct_lam"] or p["minmax"] else lam
    return Record("cutmix", (lam, 1.0 - lam), (box,))


def check_minmax(p: dict) -> None:
    if p["minmax"] is not None:
        check_range("--minmax", p["minmax"], strict=True)


class CutMix(Operation):
    name = "cutmix"
    summary = "Paste a box of a partner into each row; label weights by area."
    params = (ALPHA, MINMAX, CORRECT_LAM)
    box_columns = True

    def check(self, p: dict) -> None:
        check_alpha("--alpha", p["alpha"])
        check_minmax(p)

    def draw(self, n: int, p: dict, streams) -> dict:
        return {"lam": streams(0).beta(p["alpha"], p["alpha"], n), "u": streams(1).random((n, 4))}

    def paint(self, images: list, row: dict, p: dict, out) -> Record:
        return paint_cutmix(images, float(row["lam"]), row["u"], p, out)
