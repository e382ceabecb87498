"""ResizeMix (Qin et al., "ResizeMix: Mixing Data with Preserved Object Information and True
Labels", 2020; as mmpretrain's ResizeMix).

The whole partner image, as decoded, is resized once into a box of the row's image, so the
partner's object is always present; the label weight is the box's area share.
tau ~ U[scale_min, scale_max], cut_h = int(H*tau), cut_w = int(W*tau), box placed and clipped as CutMix's.
"""

from dataclasses import dataclass

from ..options import option, pair_range
from .base import Operation, Painted, own
from .fitting import fill_option, fit_option, place
from .geometry import box_lam, centred_box


@dataclass(frozen=True)
class ResizeMix(Operation):
    name = "resizemix"
    summary = "Resize a whole partner into a box of each row; label weights by area."
    box_columns = True

    scale_min: float = option(0.1, "Smallest box side, as a fraction of the image side.")
    scale_max: float = option(0.8, "Largest box side, as a fraction of the image side.")
    fit: str = fit_option()
    fill: int = fill_option()

    def check(self) -> None:
        pair_range()("--scale-min/--scale-max", (self.scale_min, self.scale_max))

    def draw(self, n: int, streams) -> dict:
        return {"tau": streams(0).uniform(self.scale_min, self.scale_max, n), "u": streams(1).random((n, 2))}

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        a, b = images
        h, w = a.shape[:2]
        tau = float(row["tau"])
        box = centred_box(h, w, int(h * tau), int(w * tau), row["u"][0], row["u"][1])
        if out is not a:
            out[...] = a
        partner = place(b, box, out, self.fit, self.fill, interpolation)
        lam = box_lam(h, w, box)
        return Painted(self.name, (lam, 1.0 - lam), (box,), placements=(own(a.shape, (box,)), partner))
