"""timm's Mixup switch: each mixed row is CutMix with probability switch_prob, else MixUp.

As timm's `Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, switch_prob=0.5)`, per row; an alpha of 0
turns that operation off. The row's `op` says which ran.
"""

from dataclasses import dataclass

from ..errors import UsageError
from ..options import beta, option, within
from .base import Operation, Painted
from .cutmix import correct_lam_option, minmax_option, paint_cutmix
from .mixup import paint_mixup


@dataclass(frozen=True)
class Mix(Operation):
    name = "mix"
    summary = "CutMix with probability --switch-prob, else MixUp, per row (timm's Mixup)."

    switch_prob: float = option(0.5, "Probability that a mixed row is CutMix rather than MixUp.", check=within(0, 1))
    mixup_alpha: float = option(0.8, "Beta(alpha, alpha) of MixUp's lam; 0 turns MixUp off.", check=beta(zero=True))
    cutmix_alpha: float = option(1.0, "Beta(alpha, alpha) of CutMix's lam; 0 turns CutMix off.", check=beta(zero=True))
    minmax: tuple[float, float] | None = minmax_option()
    correct_lam: bool = correct_lam_option()

    def check(self) -> None:
        if self.mixup_alpha == 0 and self.cutmix_alpha == 0:
            raise UsageError("--mixup-alpha and --cutmix-alpha are both 0: nothing would mix")
        if self.minmax is not None and self.cutmix_alpha == 0:
            raise UsageError("--minmax places CutMix boxes, but --cutmix-alpha 0 turns CutMix off")

    def draw(self, n: int, streams) -> dict:
        import numpy as np

        if self.mixup_alpha == 0:
            cut = np.ones(n, bool)
        elif self.cutmix_alpha == 0:
            cut = np.zeros(n, bool)
        else:
            cut = streams(0).random(n) < self.switch_prob

        def beta_draws(k: int, alpha: float):
            return streams(k).beta(alpha, alpha, n) if alpha > 0 else np.ones(n)

        lam = np.where(cut, beta_draws(2, self.cutmix_alpha), beta_draws(1, self.mixup_alpha))
        return {"cut": cut, "lam": lam, "u": streams(3).random((n, 4))}

    def paints_over_base(self, row: dict) -> bool:
        return bool(row["cut"])  # MixUp rows blend into a scratch buffer, as mixup's do

    def row_op(self, row: dict) -> str:
        return "cutmix" if row["cut"] else "mixup"

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        if row["cut"]:
            return paint_cutmix(images, float(row["lam"]), row["u"], self.minmax, self.correct_lam, out, interpolation)
        return paint_mixup(images, float(row["lam"]), out, interpolation)
