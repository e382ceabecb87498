"""timm's Mixup switch: each mixed row is CutMix with probability switch_prob, else MixUp.

As timm's `Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, switch_prob=0.5)`, per row; an alpha of 0
turns that operation off. The row's `op` says which ran.
"""

from ..errors import UsageError
from .base import Operation, Param, Record, check_alpha
from .cutmix import CORRECT_LAM, MINMAX, check_minmax, paint_cutmix
from .mixup import paint_mixup


class Mix(Operation):
    name = "mix"
    summary = "CutMix with probability --switch-prob, else MixUp, per row (timm's Mixup)."
    params = (
        Param("switch_prob", 0.5, "Probability that a mixed row is CutMix rather than MixUp."),
        Param("mixup_alpha", 0.8, "Beta(alpha, alpha) of MixUp's lam; 0 turns MixUp off."),
        Param("cutmix_alpha", 1.0, "Beta(alpha, alpha) of CutMix's lam; 0 turns CutMix off."),
        MINMAX,
        CORRECT_LAM,
    )

    def check(self, p: dict) -> None:
        check_alpha("--mixup-alpha", p["mixup_alpha"], zero=True)
        check_alpha("--cutmix-alpha", p["cutmix_alpha"], zero=True)
        if p["mixup_alpha"] == 0 and p["cutmix_alpha"] == 0:
            raise UsageError("--mixup-alpha and --cutmix-alpha are both 0: nothing would mix")
        if not 0 <= p["switch_prob"] <= 1:
            raise UsageError(f"--switch-prob must be in [0, 1], got {p['switch_prob']}")
        if p["minmax"] is not None and p["cutmix_alpha"] == 0:
            raise UsageError("--minmax places CutMix boxes, but --cutmix-alpha 0 turns CutMix off")
        check_minmax(p)

    def draw(self, n: int, p: dict, streams) -> dict:
        import numpy as np

        if p["mixup_alpha"] == 0:
            cut = np.ones(n, bool)
        elif p["cutmix_alpha"] == 0:
            cut = np.zeros(n, bool)
        else:
            cut = streams(0).random(n) < p["switch_prob"]

        def beta(k: int, alpha: float):
            return streams(k).beta(alpha, alpha, n) if alpha > 0 else np.ones(n)

        lam = np.where(cut, beta(2, p["cutmix_alpha"]), beta(1, p["mixup_alpha"]))
        return {"cut": cut, "lam": lam, "u": streams(3).random((n, 4))}

    def paints_over_base(self, row: dict) -> bool:
        return bool(row["cut"])  # MixUp rows blend into a scratch buffer, as mixup's do

    def row_op(self, row: dict) -> str:
        return "cutmix" if row["cut"] else "mixup"

    def paint(self, images: list, row: dict, p: dict, out) -> Record:
        if row["cut"]:
            return paint_cutmix(images, float(row["lam"]), row["u"], p, out)
        return paint_mixup(images, float(row["lam"]), out)
