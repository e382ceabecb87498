"""Writing under OUT: output names, atomic file writes, and the output directory's checks."""

import os
import re
from pathlib import Path

from .errors import MixcliError

IMAGES = "images"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ROW_PREFIX = re.compile(r"^\d{6,}_")  # a previous mixcli output's row number, dropped when chaining


def output_names(images: list[str], ext: str) -> list[str]:
    """Unique, deterministic names under OUT: images/<row>_<safe stem><ext>."""
    width = max(6, len(str(len(images) - 1)))
    names = []
    for i, image in enumerate(images):
        stem = _ROW_PREFIX.sub("", Path(image.replace("\\", "/")).stem)
        stem = _UNSAFE.sub("_", stem).strip("._")[:48]
        names.append(f"{IMAGES}/{i:0{width}d}{'_' + stem if stem else ''}{ext}")
    return names


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary name in the same folder, then rename."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def prepare_out(out: Path, inputs: list[Path], overwrite: bool) -> None:
    """Check OUT against the inputs and create OUT/images; refuse a non-empty OUT unless overwrite."""
    out_r = out.resolve()
    for p in inputs:
        p_r = p.resolve()
        if out_r == p_r or p_r in out_r.parents or out_r in p_r.parents:
            raise MixcliError(f"OUT {out} overlaps the input {p}: choose a separate output folder")
    if out.exists() and not out.is_dir():
        raise MixcliError(f"OUT {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise MixcliError(f"OUT {out} exists and is not empty: use --overwrite to write into it")
    try:
        (out / IMAGES).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MixcliError(f"cannot create {out / IMAGES}: {e.strerror}") from None
    if not os.access(out / IMAGES, os.W_OK):
        raise MixcliError(f"OUT {out} is not writable")
