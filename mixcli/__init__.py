"""mixcli: MixUp, CutMix and the other mixing operations, from a labelled image folder to a new dataset with soft labels, on disk."""

from .version import __version__

# The Python API (mixcli/api.py), imported on first use: the CLI imports this package, and
# `mixcli --help` must not pay for numpy.
__all__ = ["mixup", "cutmix", "mix_targets", "run", "load_kernels", "__version__"]
_API = ("mixup", "cutmix", "mix_targets", "run", "load_kernels")

TYPE_CHECKING = False  # typing.TYPE_CHECKING, read as True by type checkers, without importing typing
if TYPE_CHECKING:
    from .api import cutmix, load_kernels, mix_targets, mixup, run


def __getattr__(name: str):
    if name in _API:
        from . import api

        value = globals()[name] = getattr(api, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
