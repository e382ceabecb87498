"""--out-format webdataset: a finished shard's samples packed into tar files under OUT/shards.

Output row r is sample <key> (its image name's stem, dots as '_': a WebDataset key ends at the
first dot) with members <key>.jpg|png, <key>.json (its train.csv row) and, for fmix,
<key>.mask.png. Tars are cut from each shard's planned rows in row order, --samples-per-tar
at a time, and numbered across shards by the plan alone: tar files never depend on which
group wrote them, on when, or on the rows --skip-bad dropped (a tar may then hold fewer).
The images wait, encoded, under OUT/.mixcli/stage until their shard is packed.
"""

import io
import json
import math
import tarfile
from pathlib import Path

from .writer import STAGE, TARS, write_with


def tar_numbers(rows_per_shard: list[int], samples_per_tar: int) -> list[int]:
    """The number of each shard's first tar."""
    first, k = [], 0
    for n in rows_per_shard:
        first.append(k)
        k += math.ceil(n / samples_per_tar)
    return first


def key_of(name: str) -> str:
    """images/000123_cat.v2.jpg -> 000123_cat_v2."""
    return Path(name).stem.replace(".", "_")


def pack(out: Path, table, planned: list[int], first_tar: int, samples_per_tar: int, row_col: str) -> None:
    """Write the tars of one shard from its table part (rows already renamed, see place) and the
    staged files; planned: the shard's planned output rows, sorted."""
    position = {r: k for k, r in enumerate(planned)}
    records = table.drop(columns=[row_col]).to_dict(orient="records")
    by_tar: dict[int, list] = {}
    for row, record, staged_image, staged_mask in zip(table[row_col], records, table["_staged_image"], table["_staged_mask"]):
        record.pop("_staged_image")
        record.pop("_staged_mask")
        by_tar.setdefault(first_tar + position[row] // samples_per_tar, []).append((record, staged_image, staged_mask))
    for tar, samples in sorted(by_tar.items()):
        write_with(out / TARS / f"{tar:06d}.tar", lambda f, samples=samples: _write_tar(f, out, samples))


def place(table, names: list[str], masks: list[str] | None, planned: list[int], first_tar: int, samples_per_tar: int, row_col: str) -> None:
    """Point the part's image and mask columns into the tars; keep where the files are staged."""
    position = {r: k for k, r in enumerate(planned)}
    tars = [first_tar + position[r] // samples_per_tar for r in table[row_col]]
    table["_staged_image"] = [f"{STAGE}/{names[r]}" for r in table[row_col]]
    table["_staged_mask"] = [f"{STAGE}/{masks[r]}" if masks and m else "" for r, m in zip(table[row_col], table["mask"])]
    keys = [key_of(names[r]) for r in table[row_col]]
    table["image"] = [f"{TARS}/{t:06d}.tar/{k}{Path(names[r]).suffix}" for t, k, r in zip(tars, keys, table[row_col])]
    table["mask"] = [f"{TARS}/{t:06d}.tar/{k}.mask.png" if m else "" for t, k, m in zip(tars, keys, table["mask"])]


def _write_tar(f, out: Path, samples: list) -> None:
    with tarfile.open(fileobj=f, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for record, staged_image, staged_mask in samples:
            member = record["image"].split("/", 2)[2]
            key = member.rsplit(".", 1)[0]
            _add(tar, member, (out / staged_image).read_bytes())
            _add(tar, f"{key}.json", json.dumps({k: _plain(v) for k, v in record.items()}).encode())
            if staged_mask:
                _add(tar, f"{key}.mask.png", (out / staged_mask).read_bytes())


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)  # mtime 0, owner 0, mode 0644: the same bytes on every machine
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _plain(v):
    """A table value as JSON: numbers, strings, None for an empty cell."""
    try:
        if v != v:  # NaN
            return None
    except TypeError:  # pandas.NA
        return None
    return v.item() if hasattr(v, "item") else v
