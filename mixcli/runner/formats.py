"""Output formats: how a run's images reach OUT and what its table is called. One small object a
format, chosen by --out-format.

Files (the default) writes each output at its name under OUT (under OUT/images/<label>/ with
--out-layout folders). ImageFolder writes them so, and names the table as Hugging Face datasets'
imagefolder loader reads it: OUT/metadata.csv, image column file_name (metadata.jsonl, with each
row's objects nested, for a dataset with objects: a CSV cannot nest), and names the images by their
output row alone. WebDataset stages the images under OUT/.mixcli/stage until their shard
is done, then packs the shard's samples into tar files OUT/shards/NNNNNN.tar: output row r is
sample <key> (its image name's stem, dots as '_': a WebDataset key ends at the first dot) with
members <key>.jpg|png, <key>.json (its train.csv row) and, for fmix, <key>.mask.png. Tars are
cut from each shard's planned rows in row order, --samples-per-tar at a time, and numbered
across shards by the plan alone: tar files never depend on which group wrote them, on when, or
on the rows --skip-bad dropped (a tar may then hold fewer).
"""

import io
import itertools
import json
import math
import tarfile
import types

from .. import columns
from ..outdir import Out


class Files:
    """--out-format files."""

    table, image_column = columns.TABLE, columns.IMAGE
    stems = True  # output names keep the input's stem (Out.image_names)

    def __init__(self, by_label: bool = False):
        self._by_label = by_label  # --out-layout folders: images/<label>/<name>

    def folders(self, beside: list[str]) -> list[str]:
        """The folders under OUT the chunks write into (beside: those of files beside the images)."""
        return [Out.IMAGES, *beside]

    def key(self, name: str) -> str:
        """Where the chunk writes output file `name` (a name under OUT)."""
        return name

    def placed(self):
        """(name, label) -> where the image of that label is (the table names it so), or None."""
        return Out.placed if self._by_label else None

    def pack(self, prep, s: int, table, rows: list[int]) -> list[str]:
        """Shard s is painted (table: its rows of train.csv, output rows `rows`): return the files to
        delete once it is recorded done."""
        return []

    def show(self, prep, table, rows: list[int]) -> None:
        """A dry run: name the table's files as the run will."""


class ImageFolder(Files):
    """--out-format imagefolder."""

    image_column = columns.FILE_NAME
    stems = False  # datasets takes a file named like a split (test_1.jpg, x_val.png) for that split's

    def __init__(self, by_label: bool, nested: bool):
        super().__init__(by_label)
        self.table = columns.METADATA_JSONL if nested else columns.METADATA


class WebDataset(Files):
    """--out-format webdataset."""

    def __init__(self, samples_per_tar: int):
        super().__init__()
        self.samples_per_tar = samples_per_tar

    def folders(self, beside: list[str]) -> list[str]:
        return [Out.staged(f) for f in super().folders(beside)] + [Out.TARS]

    def key(self, name: str) -> str:
        return Out.staged(name)

    def pack(self, prep, s: int, table, rows: list[int]) -> list[str]:
        """Write shard s's tars: its table's rows (renamed into them) with their staged files. The
        rows are in row order, so a tar's samples come together: the table is formatted once, and
        one tar's samples at a time are held."""
        tars = self._tars(prep, rows, [s])
        staged = _rename(table, tars)
        for tar, items in itertools.groupby(zip(tars, table.rows(), staged), key=lambda item: item[0]):
            _write(prep.out.store, tar, [(dict(zip(table.columns, row)), files) for _, row, files in items])
        return [key for pair in staged for key in pair if key]

    def show(self, prep, table, rows: list[int]) -> None:
        _rename(table, self._tars(prep, rows, None))

    def _tars(self, prep, rows: list[int], shards: list[int] | None) -> list[int]:
        """The tar of each output row (rows of `shards`, default any): its shard's first tar + its
        place among the shard's planned rows // samples_per_tar."""
        chunks, n, per_input = prep.plan.chunks, len(prep.ds), prep.job.outputs_per_input
        counts = [per_input * sum(len(chunks[c]) for c in cs) for cs in prep.layout]
        first = _tar_numbers(counts, self.samples_per_tar)
        among = range(len(prep.layout)) if shards is None else shards  # a shard's rows: not the whole run's map
        shard_of = {int(i): s for s in among for c in prep.layout[s] for i in chunks[c]}
        planned: dict[int, dict[int, int]] = {}
        out = []
        for r in rows:
            s = shard_of[r % n]
            if s not in planned:
                inputs = [int(i) for c in prep.layout[s] for i in chunks[c]]
                planned[s] = {p: k for k, p in enumerate(sorted(c * n + i for i in inputs for c in range(per_input)))}
            out.append(first[s] + planned[s][r] // self.samples_per_tar)
        return out


def _tar_numbers(rows_per_shard: list[int], samples_per_tar: int) -> list[int]:
    """The number of each shard's first tar."""
    first, k = [], 0
    for n in rows_per_shard:
        first.append(k)
        k += math.ceil(n / samples_per_tar)
    return first


def _rename(table, tars: list[int]) -> list[tuple[str, str]]:
    """Point the table's image and mask fields into the given tars; return where each row's image
    and mask ("" if none) are staged."""
    staged = []
    for k, tar in enumerate(tars):
        name, mask = table.images[k], table.masks[k]
        staged.append((Out.staged(name), Out.staged(mask) if mask else ""))
        table.images[k] = Out.in_tar(tar, name)
        if mask:
            table.masks[k] = Out.in_tar(tar, name, mask=True)
    return staged


def _write(store, tar: int, samples: list) -> None:
    store.write_with(Out.tar(tar), lambda f: _write_tar(f, store, samples))


def _write_tar(f, store, samples) -> None:
    with tarfile.open(fileobj=f, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for record, (staged_image, staged_mask) in samples:
            member = Out.member(record[columns.IMAGE])
            key = member.rsplit(".", 1)[0]
            _add(tar, member, store.read(staged_image))
            _add(tar, f"{key}.json", json.dumps({k: columns.json_value(k, v) for k, v in record.items()}).encode())
            if staged_mask:
                _add(tar, f"{key}.mask.png", store.read(staged_mask))


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)  # mtime 0, owner 0, mode 0644: the same bytes on every machine
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def of_job(job, objects: bool = False):
    """The job's output format (objects: the dataset has objects)."""
    if job.out_format == "webdataset":
        return WebDataset(job.samples_per_tar)
    if job.out_format == "imagefolder":
        return ImageFolder(job.out_layout == "folders", objects)
    return Files(job.out_layout == "folders")


def table_of(record: dict, objects: bool) -> str:
    """The table's file of the run that OUT's run record describes (objects: a dataset with objects)."""
    return of_job(types.SimpleNamespace(**record["options"]), objects).table
