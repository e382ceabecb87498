"""The operation registry: every mixing operation mixcli has, one module each, by command name.

To add an operation, write a module with an Operation subclass (see base.py) and list it here.
"""

from .base import Operation, Painted
from .cutmix import CutMix
from .cutout import Cutout
from .fmix import FMix
from .mix import Mix
from .mixup import MixUp
from .mosaic import Mosaic
from .resizemix import ResizeMix

REGISTRY: dict[str, type[Operation]] = {op.name: op for op in (MixUp, CutMix, Mix, ResizeMix, Mosaic, FMix, Cutout)}
NONE = "none"  # the op of a row that passed through unchanged


def has_box_columns(op: str) -> bool:
    """Whether rows that record `op` (an operation's name, or what Mix records) fill x1,y1,x2,y2."""
    return op in REGISTRY and REGISTRY[op].box_columns


__all__ = ["REGISTRY", "NONE", "Operation", "Painted", "has_box_columns"]
