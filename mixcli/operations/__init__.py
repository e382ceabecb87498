"""The operation registry: every mixing operation mixcli has, one module each, by command name.

To add an operation, write a module with an Operation subclass (see base.py) and list it here.
"""

from .base import Operation, Param, Record, defaults
from .cutmix import CutMix
from .cutout import Cutout
from .fmix import FMix
from .mix import Mix
from .mixup import MixUp
from .mosaic import Mosaic
from .resizemix import ResizeMix

REGISTRY: dict[str, Operation] = {op.name: op for op in (MixUp(), CutMix(), Mix(), ResizeMix(), Mosaic(), FMix(), Cutout())}
NONE = "none"  # the op of a row that passed through unchanged

__all__ = ["REGISTRY", "NONE", "Operation", "Param", "Record", "defaults"]
