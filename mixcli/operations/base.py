"""What an operation is: a frozen dataclass whose fields are its options, and the class it fills in.

An operation is one module of this package. Its fields declare its options (mixcli.options:
default, help, check); its class attributes say how many source images a row takes and what
it writes. It draws everything random for all rows at once from the plan's seeded generators
(draw), paints one row from its decoded sources through the kernels (paint), and says what
it painted (Painted: the CSV's weights, boxes and mask). An operation with its options set is
one object, built once per run. The CLI, the plan, the chunk runner and the table iterate over
the registry; nothing outside this package names an operation.

The declarations import nothing heavy, since the CLI reads them to build its commands and
`mixcli --help` must stay instant: numpy, OpenCV and the kernels are imported inside paint.
"""

from typing import Any, Callable, NamedTuple

from ..options import check_values
from ..records import Box, Placement


class Painted(NamedTuple):
    """What one painted row was: the operation that ran (its name), the label weight of each
    source (the row's own image first, partners in order), boxes, a mask (HxW uint8, 0/255),
    how each source reached the output (placements, in source order) and whether the sources
    were blended (seen together everywhere, each at its weight) rather than placed side by side."""

    op: str
    weights: tuple[float, ...]
    boxes: tuple[Box, ...] = ()
    mask: Any = None
    placements: tuple[Placement, ...] = ()
    blended: bool = False


Streams = Callable[[int], Any]  # k -> the operation's k-th seeded numpy Generator


class Operation:
    """Base of every operation. A subclass is a frozen dataclass of its options; it sets the class
    attributes and fills in draw and paint."""

    name = ""
    summary = ""  # the command's one-line help
    sources = 2  # images a mixed row is made from: its own and sources - 1 partners of its cycle
    over_base = True  # paint may write over the row's own decoded image (it is not used after the row)
    box_columns = False  # the CSV's x1,y1,x2,y2 columns hold the first box
    masks = False  # rows record a mask, written under OUT/masks/

    def validate(self) -> None:
        """Raise UsageError if an option is out of range: each option's own check, then check()."""
        check_values(self)
        self.check()

    def check(self) -> None:
        """Checks that involve several options."""

    def draw(self, n: int, streams: Streams) -> dict:
        """Everything random for n rows, as arrays with one entry (or row) per row."""
        return {}

    def paints_over_base(self, row: dict) -> bool:
        return self.over_base

    def row_op(self, row: dict) -> str:
        """The `op` a mixed row with these draws records (what paint's Painted will say)."""
        return self.name

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        """Paint one row into out (an array of the row's own image's shape, possibly that image
        itself when paints_over_base) from its decoded sources and its draws, resizing by
        `interpolation` (mixcli.pixels.INTERPOLATIONS); say what was painted."""
        raise NotImplementedError


def match(img, shape, interpolation: str = "auto"):
    """img resized to shape's height and width if it differs (the row's own image sets the size)."""
    if img.shape == shape:
        return img
    import numpy as np

    from ..pixels.codec import resize

    return np.ascontiguousarray(resize(img, (shape[1], shape[0]), interpolation))


def whole(shape) -> Box:
    """The box of a whole image of this shape."""
    return Box(0, shape[0], 0, shape[1])


def own(shape, holes: tuple[Box, ...] = (), mask: int | None = None) -> Placement:
    """The row's own image, where it is: seen everywhere but in holes (and where the mask says)."""
    return Placement(1.0, 1.0, 0.0, 0.0, whole(shape), tuple(b for b in holes if b.y2 > b.y1 and b.x2 > b.x1), mask)


def matched(src_shape, shape, window: Box | None = None, mask: int | None = None) -> Placement:
    """A partner resized to the row's image (match), seen inside window (default: everywhere)."""
    return Placement(shape[1] / src_shape[1], shape[0] / src_shape[0], 0.0, 0.0, window or whole(shape), (), mask)
