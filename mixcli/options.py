"""How an option is declared: once, as a field of a frozen dataclass — the Job's options that
every operation takes, or an operation's own — with its default, help, metavar, help panel,
whether it changes output bytes, and how it is parsed and checked.

The CLI's commands, mixcli.run, validation and OUT's run record are all derived from these
fields (options.declared). Nothing here imports numpy: the CLI reads the declarations to
build its commands, and `mixcli --help` must stay instant.
"""

import functools
import math
import numbers
import os
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Callable, NamedTuple

from .errors import UsageError

# Help panels; `mixcli OP --help` lists them after the operation's own, in the order the Job declares them.
MIXING, INPUT, OBJECTS, OUTPUT, RUN, SCALING = "Mixing", "Input", "Boxes and label maps", "Output", "Run", "Scaling out"

Check = Callable[[str, Any], None]  # (the option's flag, its value): raise UsageError if out of range


@dataclass(frozen=True)
class Spec:
    """What a field's declaration says beside its name, type and default."""

    help: str
    metavar: str | None = None
    flags: tuple[str, ...] = ()  # the CLI's spellings when not just --name (e.g. '--x/--no-x', '-n')
    panel: str | None = None  # None: the operation's own
    output: bool = True  # changes output bytes: recorded in OUT's run record, a --resume must match
    parse: Callable[[str], Any] | None = None  # text -> value: the CLI passes text, Python may too
    path: bool = False  # a place: text on the command line, a str or os.PathLike from Python
    check: Check | None = None
    show_default: bool = True


def option(default: Any, help: str, **spec: Any) -> Any:
    """Declare a dataclass field as an option (see Spec for the keywords)."""
    return field(default=default, metadata={"option": Spec(help, **spec)})


class Declared(NamedTuple):
    """One declared option: a field's name, type and default, and its Spec."""

    name: str
    type: Any
    default: Any
    spec: Spec

    @property
    def flag(self) -> str:
        """'--name-with-dashes', or the first declared spelling."""
        return self.spec.flags[0].split("/")[0] if self.spec.flags else dashed(self.name)

    @property
    def flags(self) -> tuple[str, ...]:
        return self.spec.flags or (dashed(self.name),)


def dashed(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


@functools.cache
def declared(cls: type) -> list[Declared]:
    """The options a dataclass declares, in field order."""
    hints = typing.get_type_hints(cls)
    return [Declared(f.name, hints[f.name], f.default, f.metadata["option"]) for f in fields(cls) if "option" in f.metadata]


def check_values(obj: Any) -> None:
    """Run each declared option's check on obj's value (raise UsageError on the first out of range)."""
    for d in declared(type(obj)):
        if d.spec.check is not None:
            d.spec.check(d.flag, getattr(obj, d.name))


def convert(d: Declared, value: Any) -> Any:
    """value as the option's type: text parsed where the option says how, numbers as the CLI
    would give them (1 -> 1.0 for a float), paths as text; UsageError on a value of another type."""
    if isinstance(value, str) and d.spec.parse is not None:
        return d.spec.parse(value)
    if d.spec.path and value is not None:
        if not isinstance(value, (str, os.PathLike)):
            raise UsageError(f"{d.name} must be Path, got {value!r}")
        return os.fspath(value)
    return _as(d.name, value, d.type)


def _as(name: str, value: Any, typ: Any) -> Any:
    args = typing.get_args(typ)
    if typing.get_origin(typ) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (typ,) = [t for t in args if t is not type(None)]
        args = typing.get_args(typ)
    if typing.get_origin(typ) is tuple:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != len(args):
            raise UsageError(f"{name} must be a pair of numbers, got {value!r}")
        return tuple(_as(name, v, t) for v, t in zip(value, args))
    is_bool = isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"))
    ok = {
        bool: is_bool,
        int: isinstance(value, numbers.Integral) and not is_bool,
        float: isinstance(value, numbers.Real) and not is_bool,
        str: isinstance(value, str),
    }.get(typ, True)
    if not ok:
        raise UsageError(f"{name} must be {getattr(typ, '__name__', typ)}, got {value!r}")
    return typ(value) if typ in (bool, int, float, str) else value


# Parsers: the one place where an option's text becomes its value.


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' -> (W, H)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--size must look like 256x256 (WIDTHxHEIGHT), got {text!r}")
    w, h = (int(p) for p in parts)
    if w < 1 or h < 1:
        raise UsageError(f"--size needs positive sides, got {text!r}")
    return w, h


def parse_shards(text: str) -> tuple[int | None, int]:
    """'I/N' -> (I, N); 'all' -> (None, 0): the whole run, whatever the environment says."""
    if text.strip() == "all":
        return None, 0
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--shards must look like 3/8 (group 3 of 8) or be all, got {text!r}")
    return int(parts[0]), int(parts[1])


# Checks, each giving the one line the user reads.


def at_least(lo: int) -> Check:
    def check(flag: str, value) -> None:
        if value < lo:
            raise UsageError(f"{flag} must be >= {lo}, got {value}")

    return check


def above(lo: float) -> Check:
    def check(flag: str, value) -> None:
        if not value > lo:
            raise UsageError(f"{flag} must be > {lo}, got {value}")

    return check


def within(lo: float, hi: float, open_right: bool = False) -> Check:
    """lo <= value <= hi (value < hi when open_right)."""

    def check(flag: str, value) -> None:
        if not (lo <= value < hi if open_right else lo <= value <= hi):
            raise UsageError(f"{flag} must be in [{lo}, {hi}{')' if open_right else ']'}, got {value}")

    return check


def one_of(*choices: str) -> Check:
    def check(flag: str, value) -> None:
        if value not in choices:
            names = ", ".join(choices[:-1]) + f" or {choices[-1]}"
            raise UsageError(f"{flag} must be {names}, got {value!r}")

    return check


def beta(zero: bool = False) -> Check:
    """A Beta parameter: finite and > 0 (or exactly 0 where that turns the operation off)."""

    def check(flag: str, value) -> None:
        if not (math.isfinite(value) and (value > 0 or (zero and value == 0))):
            raise UsageError(f"{flag} must be a finite number {'>= 0' if zero else '> 0'}, got {value}")

    return check


def pair_range(lo_min: float = 0.0, strict: bool = False) -> Check:
    """LO HI with lo_min <= LO <= HI <= 1 (lo_min < LO when strict); None passes."""

    def check(flag: str, pair) -> None:
        if pair is None:
            return
        lo, hi = pair
        if not ((lo > lo_min if strict else lo >= lo_min) and lo <= hi <= 1):
            raise UsageError(f"{flag} needs {lo_min} {'<' if strict else '<='} LO <= HI <= 1, got {lo} {hi}")

    return check
