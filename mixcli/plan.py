"""The mixing plan: every random choice of a run, drawn up front from the seed.

MixUp: Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018.
CutMix: Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with
Localizable Features", ICCV 2019.

A plan is plain arrays, one entry per input row. The pipeline applies it to pixels and the
CSV writer records it, so images and labels cannot disagree. Boxes depend on the output
size, which is known only after decoding, so the plan holds the unit uniforms a box is made
from and `cutmix_box` turns them into pixels.
"""

from dataclasses import dataclass

import numpy as np

OPS = ("none", "mixup", "cutmix")
OP_NONE, OP_MIXUP, OP_CUTMIX = 0, 1, 2

# Rows are paired inside chunks of a seeded shuffle: each chunk is one cycle, so a worker
# decodes each of its images once. The size is fixed so plans never depend on --workers.
CHUNK = 16


@dataclass(frozen=True)
class PlanConfig:
    op: int
    alpha: float = 1.0
    prob: float = 1.0
    minmax: tuple[float, float] | None = None
    seed: int = 0


@dataclass(frozen=True)
class Plan:
    """op[i]: OP_*; partner[i]: the row mixed into row i; lam[i]: the drawn Beta weight;
    u[i]: four uniforms in [0, 1) that place a CutMix box; chunks: row indices per cycle."""

    op: np.ndarray
    partner: np.ndarray
    lam: np.ndarray
    u: np.ndarray
    chunks: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.op)


def make_plan(n: int, cfg: PlanConfig) -> Plan:
    """Draw the plan for n rows: which rows mix, with whom, and with what weights."""
    if n < 2 and cfg.prob > 0:
        raise ValueError(f"need at least 2 rows to mix, the dataset has {n}")
    pair_rng, mix_rng, lam_rng, box_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(4)
    )
    chunks = _chunk_cycles(pair_rng.permutation(n))
    partner = np.full(n, -1, dtype=np.int64)
    for chunk in chunks:
        partner[chunk] = np.roll(chunk, -1)
    mixed = mix_rng.random(n) < cfg.prob
    op = np.where(mixed, cfg.op, OP_NONE).astype(np.int8)
    lam = lam_rng.beta(cfg.alpha, cfg.alpha, n)
    u = box_rng.random((n, 4))
    return Plan(op=op, partner=partner, lam=lam, u=u, chunks=chunks)


def _chunk_cycles(order: np.ndarray) -> list[np.ndarray]:
    """Cut a shuffled order into chunks of CHUNK rows; a last chunk of one joins the one before."""
    chunks = [order[i : i + CHUNK] for i in range(0, len(order), CHUNK)]
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2:] = [np.concatenate(chunks[-2:])]
    return chunks


def cutmix_box(
    h: int, w: int, lam: float, u: np.ndarray, minmax: tuple[float, float] | None = None
) -> tuple[int, int, int, int]:
    """The half-open box (y1, y2, x1, x2) in an h x w image, from lam and four uniforms.

    Without minmax: cut ratio sqrt(1-lam), centre uniform over all pixels, box clipped.
    With minmax (lo, hi): sides uniform in [int(h*lo), int(h*hi)] and [int(w*lo), int(w*hi)],
    placed fully inside the image, every position reachable.
    """
    if minmax is None:
        r = np.sqrt(1.0 - lam)
        cut_h, cut_w = int(h * r), int(w * r)
        cy, cx = _uniform_int(u[0], h), _uniform_int(u[1], w)
        y1, y2 = np.clip([cy - cut_h // 2, cy + cut_h // 2], 0, h)
        x1, x2 = np.clip([cx - cut_w // 2, cx + cut_w // 2], 0, w)
        return int(y1), int(y2), int(x1), int(x2)
    lo, hi = minmax
    cut_h = int(h * lo) + _uniform_int(u[2], int(h * hi) - int(h * lo) + 1)
    cut_w = int(w * lo) + _uniform_int(u[3], int(w * hi) - int(w * lo) + 1)
    y1 = _uniform_int(u[0], h - cut_h + 1)
    x1 = _uniform_int(u[1], w - cut_w + 1)
    return y1, y1 + cut_h, x1, x1 + cut_w


def box_lam(h: int, w: int, box: tuple[int, int, int, int]) -> float:
    """The share of an h x w image outside the box: the weight of the base image."""
    y1, y2, x1, x2 = box
    return 1.0 - (y2 - y1) * (x2 - x1) / (h * w)


def _uniform_int(u: float, k: int) -> int:
    """Map a uniform u in [0, 1) to an integer uniform in 0..k-1."""
    return min(int(u * k), k - 1)
