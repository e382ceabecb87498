"""CutMix (Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with
Localizable Features", ICCV 2019).

A box of the partner (resized to the row's own image) is pasted into the row's image; the
label weight of the row's image is the share outside the box (or the drawn lam, uncorrected).
"""

from dataclasses import dataclass

from ..options import option, pair_range
from .base import Operation, Painted, match, matched, own
from .geometry import box_lam, cutmix_box
from .mixup import alpha_option


def minmax_option():
    return option(
        None, "Box sides uniform in [LO, HI] of the image sides (instead of lam), box inside the image.",
        metavar="LO HI", check=pair_range(strict=True),
    )


def correct_lam_option():
    return option(True, "Label weight from the clipped box's area (else the drawn lam).", flags=("--correct-lam/--no-correct-lam",))


def paint_cutmix(images: list, lam: float, u, minmax: tuple[float, float] | None, correct_lam: bool, out, interpolation: str = "auto") -> Painted:
    from ..pixels.checked import paste

    a, b = images
    h, w = a.shape[:2]
    box = cutmix_box(h, w, lam, u, minmax)
    if out is not a:
        out[...] = a
    paste(match(b, a.shape, interpolation), box, out)
    lam = box_lam(h, w, box) if correct_lam or minmax else lam
    return Painted("cutmix", (lam, 1.0 - lam), (box,), placements=(own(a.shape, (box,)), matched(b.shape, a.shape, box)))


@dataclass(frozen=True)
class CutMix(Operation):
    name = "cutmix"
    summary = "Paste a box of a partner into each row; label weights by area."
    box_columns = True

    alpha: float = alpha_option()
    minmax: tuple[float, float] | None = minmax_option()
    correct_lam: bool = correct_lam_option()

    def draw(self, n: int, streams) -> dict:
        return {"lam": streams(0).beta(self.alpha, self.alpha, n), "u": streams(1).random((n, 4))}

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        return paint_cutmix(images, float(row["lam"]), row["u"], self.minmax, self.correct_lam, out, interpolation)
