"""MixUp (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018).

out = lam*A + (1-lam)*B in float32, rounded half up; label lam*y_A + (1-lam)*y_B; lam ~ Beta(alpha, alpha).
The partner is resized to the row's own image first.
"""

from dataclasses import dataclass

from ..options import beta, option
from .base import Operation, Painted, match, matched, own


def alpha_option():
    return option(1.0, "Beta(alpha, alpha) parameter of the mixing weight lam; > 0.", check=beta())


def paint_mixup(images: list, lam: float, out, interpolation: str = "auto") -> Painted:
    from ..pixels.checked import blend

    a, b = images
    blend(a, match(b, a.shape, interpolation), lam, out)
    return Painted("mixup", (lam, 1.0 - lam), placements=(own(a.shape), matched(b.shape, a.shape)), blended=True)


@dataclass(frozen=True)
class MixUp(Operation):
    name = "mixup"
    summary = "Blend each row with a partner: out = lam*A + (1-lam)*B, label likewise."
    over_base = False  # blending over an input stops LLVM vectorising (9x slower): a scratch buffer

    alpha: float = alpha_option()

    def draw(self, n: int, streams) -> dict:
        return {"lam": streams(0).beta(self.alpha, self.alpha, n)}

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        return paint_mixup(images, float(row["lam"]), out, interpolation)
