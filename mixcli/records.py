"""What painting produced, as named records: a box, one output row's result, one chunk's result,
one shard's stats.

This module imports nothing of mixcli: the run makes these records, OUT's journal keeps them
(a chunk's result is one JSON object), and the table reads them.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple


class Box(NamedTuple):
    """A half-open box in output pixels: rows y1..y2-1, columns x1..x2-1 (H counts rows, W columns).
    mixcli's one convention in code; the CSV and the Python API write it as x1 y1 x2 y2 (xyxy)."""

    y1: int
    y2: int
    x1: int
    x2: int

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        return self.x1, self.y1, self.x2, self.y2


class Placement(NamedTuple):
    """How one source of a painted row reaches the output: a source pixel edge (x, y) lands at
    (x*sx + ox, y*sy + oy), and the source is seen inside window but not in its holes (and, with
    mask set, only where the row's mask equals it). Mapped boxes and label maps follow it."""

    sx: float
    sy: float
    ox: float
    oy: float
    window: Box
    holes: tuple[Box, ...] = ()
    mask: int | None = None


class RowResult(NamedTuple):
    """What was done for one output row: the op that ran ('none' for a pass-through), its
    sources (the row's own input row first, then its partners), the label weight of each,
    its boxes ([y1, y2, x1, x2] each), whether it wrote a mask, and why it was skipped ('' if
    written); a detection dataset's row also its objects ([category, x1, y1, x2, y2, weight,
    visibility, crowd] each, output pixels), the objects the thresholds dropped, and its size [w, h]."""

    op: str
    sources: list[int]
    weights: list[float]
    boxes: list[list[int]]
    mask: bool
    error: str
    objects: list[list] = ()  # type: ignore[assignment]
    dropped: int = 0
    size: list[int] = ()  # type: ignore[assignment]


@dataclass
class ChunkResult:
    """What applying the plan did to one chunk's output rows, column by column (in plan order);
    as JSON, one line of a shard's journal."""

    chunk: int
    rows: list[int]  # output rows: copy c of input row i is c*N + i, the original of i (keep_originals) K*N + i
    op: list[str] = field(default_factory=list)
    sources: list[list[int]] = field(default_factory=list)
    weights: list[list[float]] = field(default_factory=list)
    boxes: list[list[list[int]]] = field(default_factory=list)
    mask: list[bool] = field(default_factory=list)
    error: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of painting and writing the chunk
    objects: list[list[list]] = field(default_factory=list)  # a detection dataset's, else empty
    dropped: list[int] = field(default_factory=list)
    size: list[list[int]] = field(default_factory=list)

    def add(self, row: int, result: RowResult) -> None:
        self.rows.append(row)
        self.op.append(result.op)
        self.sources.append(result.sources)
        self.weights.append(result.weights)
        self.boxes.append(result.boxes)
        self.mask.append(result.mask)
        self.error.append(result.error)
        if result.size:
            self.objects.append(result.objects)
            self.dropped.append(result.dropped)
            self.size.append(result.size)

    def results(self) -> Iterator[tuple[int, RowResult]]:
        """(output row, its RowResult) for each row, in plan order."""
        columns = [self.op, self.sources, self.weights, self.boxes, self.mask, self.error]
        if self.size:
            columns += [self.objects, self.dropped, self.size]
        return zip(self.rows, map(RowResult, *columns))


@dataclass
class ShardStats:
    """What a finished shard wrote: its rows, the rows per op, the input rows --skip-bad dropped
    ([input row, image, why] each) and its seconds; as JSON, the shard's mark of done."""

    shard: int
    rows: int
    ops: dict[str, int]
    skipped: list[list]
    seconds: float
    objects: int = 0  # objects written (a detection dataset's)
    dropped: int = 0  # objects the thresholds dropped


def by_row(results: list[ChunkResult]) -> tuple[list[int], list[RowResult]]:
    """The output rows that chunks' results hold, in row order, and each row's RowResult."""
    found: dict[int, RowResult] = {}
    for result in results:
        for row, row_result in result.results():
            if row in found:
                raise RuntimeError(f"row {row} is in two chunk results")
            found[row] = row_result
    rows = sorted(found)
    return rows, [found[r] for r in rows]
