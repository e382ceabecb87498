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

from .dataset import SOFT_PREFIX
from .writer import STAGE, TARS, write_with


def tar_numbers(rows_per_shard: list[int], samples_per_tar: int) -> list[int]:
    """The number of each shard's first tar."""
    first, k = [], 0
    for n in rows_per_shard:
        first.append(k)
        k += math.ceil(n / samples_per_tar)
    return first


def tars_of(rows: list[int], shard_chunks: list, chunks: list, n: int, per_input: int, samples_per_tar: int, shards: list[int] | None = None) -> list[int]:
    """The tar of each output row (rows of `shards`, default any): its shard's first tar + its place
    among the shard's planned rows // samples_per_tar (shard_chunks: the shards' chunk ids; chunks:
    the plan's input rows a chunk)."""
    counts = [per_input * sum(len(chunks[c]) for c in cs) for cs in shard_chunks]
    first = tar_numbers(counts, samples_per_tar)
    among = range(len(shard_chunks)) if shards is None else shards  # a shard's rows: not the whole run's map
    shard_of = {int(i): s for s in among for c in shard_chunks[s] for i in chunks[c]}
    planned: dict[int, dict[int, int]] = {}
    out = []
    for r in rows:
        s = shard_of[r % n]
        if s not in planned:
            inputs = [int(i) for c in shard_chunks[s] for i in chunks[c]]
            planned[s] = {p: k for k, p in enumerate(sorted(c * n + i for i in inputs for c in range(per_input)))}
        out.append(first[s] + planned[s][r] // samples_per_tar)
    return out


def rename(table, tars: list[int]) -> list[tuple[str, str]]:
    """Point the table's image and mask fields into the given tars; return where each row's image
    and mask ("" if none) are staged, relative to OUT."""
    staged = []
    for k, tar in enumerate(tars):
        key, name = key_of(table.images[k]), table.images[k]
        staged.append((f"{STAGE}/{name}", f"{STAGE}/{table.masks[k]}" if table.masks[k] else ""))
        table.images[k] = f"{TARS}/{tar:06d}.tar/{key}{Path(name).suffix}"
        if table.masks[k]:
            table.masks[k] = f"{TARS}/{tar:06d}.tar/{key}.mask.png"
    return staged


def key_of(name: str) -> str:
    """images/000123_cat.v2.jpg -> 000123_cat_v2."""
    return Path(name).stem.replace(".", "_")


def pack(out: Path, table, tars: list[int], staged: list) -> None:
    """Write the tars of one shard: its table's rows (renamed) with their staged files. The rows
    are in row order, so a tar's samples come together: the table is formatted once, and one
    tar's samples at a time are held."""
    numeric = {c for c in table.columns if c.startswith(SOFT_PREFIX)} | {"lam"}
    ints = {"x1", "y1", "x2", "y2"}

    def write(tar: int, samples: list) -> None:
        write_with(out / TARS / f"{tar:06d}.tar", lambda f: _write_tar(f, out, samples, numeric, ints))

    current, samples = None, []
    for tar, row, files in zip(tars, table.rows(), staged):
        if tar != current and samples:
            write(current, samples)
            samples = []
        current = tar
        samples.append((dict(zip(table.columns, row)), files))
    if samples:
        write(current, samples)


def _write_tar(f, out: Path, samples, numeric: set, ints: set) -> None:
    with tarfile.open(fileobj=f, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for record, (staged_image, staged_mask) in samples:
            member = record["image"].split("/", 2)[2]
            key = member.rsplit(".", 1)[0]
            _add(tar, member, (out / staged_image).read_bytes())
            _add(tar, f"{key}.json", json.dumps({k: _value(k, v, numeric, ints) for k, v in record.items()}).encode())
            if staged_mask:
                _add(tar, f"{key}.mask.png", (out / staged_mask).read_bytes())


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)  # mtime 0, owner 0, mode 0644: the same bytes on every machine
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _value(column: str, text, numeric: set, ints: set):
    """A table field as JSON: numbers for the weight and box columns, None for an empty cell (a
    label stays its class: a number for integer classes)."""
    if not isinstance(text, str):
        return text
    if text == "":
        return None if column in numeric or column in ints else ""
    if column in numeric:
        return float(text)
    return int(text) if column in ints else text
