"""What an operation is: its declared options, its record of one row, and the class it fills in.

An operation is one module of this package. It declares its options (Param), how many source
images a row takes, what it draws for all rows at once from the plan's seeded generators
(draw), how it paints one row from its decoded sources through the kernels (paint), and what
it records for the CSV (Record). The CLI, the plan, the chunk runner and the table iterate over
the registry; nothing outside this package names an operation.

The declarations import nothing heavy, since the CLI reads them to build its commands and
`mixcli --help` must stay instant: numpy, OpenCV and the kernels are imported inside paint.
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from ..errors import UsageError

Box = tuple[int, int, int, int]  # half-open (y1, y2, x1, x2) in output pixels, everywhere in mixcli


@dataclass(frozen=True)
class Param:
    """One option of an operation: `--name-with-dashes` on the command line, `name` in Python."""

    name: str
    default: Any
    help: str
    type: Any = float  # the annotation the CLI parses with: float, int, tuple[float, float] | None, ...
    metavar: str | None = None
    flags: tuple[str, ...] = ()  # the option's spellings when not just --name (e.g. a --x/--no-x pair)

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


class Record(NamedTuple):
    """What one painted row was: the operation that ran (its name), the label weight of each
    source (the row's own image first, partners in order), boxes, and a mask (HxW uint8, 0/255)."""

    op: str
    weights: tuple[float, ...]
    boxes: tuple[Box, ...] = ()
    mask: Any = None


Streams = Callable[[int], Any]  # k -> the operation's k-th seeded numpy Generator


class Operation:
    """Base of every operation. A subclass sets the class attributes and fills in draw and paint."""

    name = ""
    summary = ""  # the command's one-line help
    sources = 2  # images a mixed row is made from: its own and sources - 1 partners of its cycle
    params: tuple[Param, ...] = ()
    over_base = True  # paint may write over the row's own decoded image (it is not used after the row)
    box_columns = False  # the CSV's x1,y1,x2,y2 columns hold the first box
    masks = False  # rows record a mask, written under OUT/masks/

    def check(self, p: dict) -> None:
        """Raise UsageError if an option (p: name -> value) is out of range."""

    def draw(self, n: int, p: dict, streams: Streams) -> dict:
        """Everything random for n rows, as arrays with one entry (or row) per row."""
        return {}

    def paints_over_base(self, row: dict) -> bool:
        return self.over_base

    def row_op(self, row: dict) -> str:
        """The `op` a mixed row with these draws records (what paint's Record will say)."""
        return self.name

    def paint(self, images: list, row: dict, p: dict, out) -> Record:
        """Paint one row into out (an array of the row's own image's shape, possibly that image
        itself when paints_over_base) from its decoded sources and its draws; return the record."""
        raise NotImplementedError


def defaults(op: Operation) -> dict:
    return {p.name: p.default for p in op.params}


def check_alpha(option: str, alpha: float, zero: bool = False) -> None:
    """A Beta parameter: finite and > 0 (or exactly 0 where that turns the operation off)."""
    if not (math.isfinite(alpha) and (alpha > 0 or (zero and alpha == 0))):
        raise UsageError(f"{option} must be a finite number {'>= 0' if zero else '> 0'}, got {alpha}")


def check_range(option: str, pair, lo_min: float = 0.0, strict: bool = False) -> None:
    """LO HI with lo_min <= LO <= HI <= 1 (lo_min < LO when strict)."""
    lo, hi = pair
    if not ((lo > lo_min if strict else lo >= lo_min) and lo <= hi <= 1):
        raise UsageError(f"{option} needs {lo_min} {'<' if strict else '<='} LO <= HI <= 1, got {lo} {hi}")


def match(img, shape):
    """img resized to shape's height and width if it differs (the row's own image sets the size)."""
    if img.shape == shape:
        return img
    import numpy as np

    from ..imageio import resize

    return np.ascontiguousarray(resize(img, (shape[1], shape[0])))
