"""The mixing plan: every random choice of a run, drawn up front from the seed.

A plan is plain arrays, one entry per input row. The run applies it to pixels and the
table records what was applied, so images and labels cannot disagree. Geometry that
depends on the output size, known only after decoding, is drawn as unit uniforms that the
operation turns into pixels.

Generators: stream 0 shuffles the rows into cycles, stream 1 decides which rows mix, an
operation's k-th generator is stream 2 + k, and --pairing cross-class or balanced draws the
partners from stream PAIRING; each is keyed by the seed alone.
"""

from dataclasses import dataclass

import numpy as np

from ..operations import Operation
from .pairing import Members, PairingError, draw_partners

# Rows are paired inside chunks of a seeded shuffle: each chunk is one cycle, so a worker
# decodes each of its images once. The size is fixed so plans never depend on --workers.
CHUNK = 16
PAIRING = 1 << 16  # the pairing stream's key: clear of the operations' streams 2, 3, ...


@dataclass(frozen=True)
class Plan:
    """For N input rows and K copies, planned row r = c*N + i is copy c of input row i:
    mixed[r]: whether it is painted by the operation (else it passes through); draws: the
    operation's arrays, one entry per planned row; chunks: input rows per cycle. A mixed row's
    partners are pairs[r] (input rows) when the pairing draws them, else the next rows of its
    cycle (copy c's from the (c+1)-th next on). The draws of copy 0 are those of a plan with K = 1."""

    mixed: np.ndarray
    draws: dict
    chunks: list[np.ndarray]
    copies: int = 1
    pairs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.mixed)

    @property
    def inputs(self) -> int:
        return len(self.mixed) // self.copies

    def partners(self, count: int = 1) -> np.ndarray:
        """(rows, count): the next `count` rows of each row's cycle, in cycle order."""
        out = np.full((len(self), count), -1, dtype=np.int64)
        for chunk in self.chunks:
            for k in range(count):
                out[chunk, k] = np.roll(chunk, -(k + 1))
        return out

    def row(self, r: int) -> dict:
        """Planned row r's draws."""
        return {k: v[r] for k, v in self.draws.items()}


def stream(seed: int, k: int) -> np.random.Generator:
    """The run's k-th generator (the k-th child of the seed's SeedSequence)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))


def make_plan(n: int, op: Operation, prob: float = 1.0, seed: int = 0, copies: int = 1,
              pairing: str = "random", members: Members | None = None, names: list[str] | None = None) -> Plan:
    """Draw the plan for n rows and `copies` outputs of each: which mix, with whom, and everything
    the operation draws (copy-major, so copy 0 draws what a plan of one copy draws). pairing
    cross-class or balanced draws partners from members (each row's classes; names: the rows'
    images, for messages). Raises ValueError when the rows cannot be planned."""
    if n < op.sources and prob > 0:
        raise ValueError(f"{op.name} needs at least {op.sources} rows, the dataset has {n}")
    chunks = _chunk_cycles(stream(seed, 0).permutation(n), max(2, op.sources))
    mixed = stream(seed, 1).random(n * copies) < prob
    draws = op.draw(n * copies, lambda k: stream(seed, 2 + k))
    pairs = None
    if pairing != "random" and op.sources > 1:
        rng, names = stream(seed, PAIRING), names or [str(i) for i in range(n)]
        pairs = np.concatenate([draw_partners(pairing, members, rng, op.sources - 1, names) for _ in range(copies)])
    return Plan(mixed=mixed, draws=draws, chunks=chunks, copies=copies, pairs=pairs)


__all__ = ["CHUNK", "Members", "PairingError", "Plan", "make_plan", "stream"]


def _chunk_cycles(order: np.ndarray, shortest: int) -> list[np.ndarray]:
    """Cut a shuffled order into chunks of CHUNK rows; a last chunk under `shortest` rows joins the one before."""
    chunks = [order[i : i + CHUNK] for i in range(0, len(order), CHUNK)]
    if len(chunks) > 1 and len(chunks[-1]) < shortest:
        chunks[-2:] = [np.concatenate(chunks[-2:])]
    return chunks
