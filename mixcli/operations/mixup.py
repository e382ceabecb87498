"""MixUp (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018).

out = lam*A + (1-lam)*B in float32, rounded half up; label lam*y_A + (1-lam)*y_B; lam ~ Beta(alpha, alpha).
The partner is resized to the row's own image first.
"""

from .base import Operation, Param, Record, check_alpha, match

ALPHA = Param("alpha", 1.0, "Beta(alpha, alpha) parameter of the mixing weight lam; > 0.")


def paint_mixup(images: list, lam: float, out) -> Record:
    from ..ops import blend

    a = images[0]
    blend(a, match(images[1], a.shape), lam, out)
    return Record("mixup", (lam, 1.0 - lam))


class MixUp(Operation):
    name = "mixup"
    summary = "Blend each row with a partner: out = lam*A + (1-lam)*B, label likewise."
    params = (ALPHA,)
    over_base = False  # blending over an input stops LLVM vectorising (9x slower): a scratch buffer

    def check(self, p: dict) -> None:
        check_alpha("--alpha", p["alpha"])

    def draw(self, n: int, p: dict, streams) -> dict:
        return {"lam": streams(0).beta(p["alpha"], p["alpha"], n)}

    def paint(self, images: list, row: dict, p: dict, out) -> Record:
        return paint_mixup(images, float(row["lam"]), out)
