"""OUT/.mixcli: a run's record — the options it was started with, and its shards' progress.

The plan's chunks are grouped into fixed shards (units of work). While a shard runs, each
finished chunk is appended to its journal, only after all its files are in place; a finished
shard leaves its part of train.csv and, written last, its stats, which mark it done. A run
killed at any moment is resumed from these: done shards are kept, the chunks in a journal are
kept, the rest is redone. Everything is deterministic per chunk: the same bytes either way.

    OUT/.mixcli/run.json                  options, input digest, rows, shards
    OUT/.mixcli/shards/000003.journal     finished chunks of shard 3, while it runs
    OUT/.mixcli/shards/000003.csv         its rows of train.csv (first column: the output row)
    OUT/.mixcli/shards/000003.json        its stats: rows, per-op counts, skipped rows, seconds

In an object store (no append, no exclusive link) a journal is one object per finished chunk,
OUT/.mixcli/shards/000003.journal/000012.json, and run.json is created by a conditional write.
"""

import json

from ..errors import MixcliError
from ..records import ChunkResult, ShardStats
from ..version import __version__


def run_record(options: dict, digest: str, rows: int, shards: int) -> dict:
    """What makes OUT what it is: the version, the options that change output bytes, the input's
    digest (of the CSV's bytes, or of the class-folder listing), the rows and the shards."""
    return {"mixcli": __version__, "options": options, "input_sha256": digest, "rows": rows, "shards": shards}


class State:
    """The record of the run in an Out (out.state)."""

    def __init__(self, out):
        self.out, self.store = out, out.store

    def exists(self) -> bool:
        return self.store.is_file(self.out.RUN)

    def shards(self) -> int | None:
        """The number of shards the recorded run has (None: a record of another mixcli version)."""
        count = self.read().get("shards")
        return count if isinstance(count, int) else None

    def read(self) -> dict:
        try:
            return json.loads(self.store.read(self.out.RUN))
        except (OSError, ValueError):
            raise MixcliError(f"cannot read {self.out.where(self.out.RUN)}: start again with --overwrite") from None

    def start(self, record: dict) -> None:
        """Record a new run, with no shard done."""
        self.store.make_folder(self.out.WORK)  # OUT.prepare has refused a symlinked OUT/.mixcli
        self.store.delete([f"{self.out.WORK}/{key}" for key in self.store.files(self.out.WORK)])
        self.store.write(self.out.RUN, _as_bytes(record))

    def join(self, record: dict) -> None:
        """Record the run unless another shard group of it has: run.json is created exclusively,
        so of groups starting together one records it (the caller then checks it against theirs)."""
        self.store.make_folder(self.out.WORK)
        if not self.exists():
            try:
                self.store.write(self.out.RUN, _as_bytes(record), exclusive=True)
            except FileExistsError:  # another group's came first
                pass

    def shard_done(self, s: int) -> bool:
        return self.store.is_file(self.out.work(s, self.out.STATS))

    def missing(self, shards: int) -> list[int]:
        return [s for s in range(shards) if not self.shard_done(s)]

    def shard_stats(self, s: int) -> ShardStats:
        try:
            return ShardStats(**json.loads(self.store.read(self.out.work(s, self.out.STATS))))
        except (OSError, ValueError, TypeError):
            raise MixcliError(f"cannot read {self.out.where(self.out.work(s, self.out.STATS))}: rerun that shard") from None

    def has_part(self, s: int) -> bool:
        return self.store.is_file(self.out.work(s, self.out.PART))

    def open_part(self, s: int):
        """Shard s's rows of train.csv, as text (see mixcli.columns)."""
        return self.store.open_text(self.out.work(s, self.out.PART))

    def journal(self, s: int) -> list[ChunkResult]:
        """The finished chunks of unfinished shard s, once each (a record cut short by a kill, or
        gone meanwhile, is redone: to the same bytes)."""
        done, seen = [], set()
        for data in self.store.records(self.out.work(s, self.out.JOURNAL)):
            try:
                result = ChunkResult(**json.loads(data))
            except (ValueError, TypeError):
                continue
            if result.chunk not in seen:  # a group run twice at once journals a chunk twice, with the same content
                seen.add(result.chunk)
                done.append(result)
        return done

    def append(self, s: int, result: ChunkResult) -> None:
        """Add a finished chunk to shard s's journal."""
        self.store.append(self.out.work(s, self.out.JOURNAL), self.out.entry(result.chunk), json.dumps(vars(result)).encode())

    def open_objects(self, s: int):
        """Shard s's part of annotations.json (a COCO dataset's), as text: a JSON line a row."""
        return self.store.open_text(self.out.work(s, self.out.OBJECTS))

    def finish_shard(self, s: int, fill_part, stats: ShardStats, objects: bytes | None = None) -> None:
        """Shard s is done: its part of train.csv (what fill_part(text) writes) and of
        annotations.json (objects, if any), then its stats (the mark), then no journal."""
        self.store.write_text_with(self.out.work(s, self.out.PART), fill_part)
        if objects is not None:
            self.store.write(self.out.work(s, self.out.OBJECTS), objects)
        self.store.write(self.out.work(s, self.out.STATS), (json.dumps(vars(stats), sort_keys=True) + "\n").encode())
        self.store.delete_tree(self.out.work(s, self.out.JOURNAL))

    def finish(self, shards: int) -> None:
        """train.csv is in place: the parts it was made from go; run.json and the stats stay as the record."""
        self.store.delete([self.out.work(s, suffix) for s in range(shards) for suffix in (self.out.PART, self.out.OBJECTS)])

    def start_labels(self, record: dict | None) -> None:
        """Record a detection run's categories and format for the merge ({"format", "categories"}; None: not one)."""
        if record is None:
            self.store.delete([self.out.CATEGORIES])
        else:
            self.store.write(self.out.CATEGORIES, _as_bytes(record))

    def labels(self) -> dict | None:
        """What start_labels recorded (None: not a detection run)."""
        if not self.store.is_file(self.out.CATEGORIES):
            return None
        return json.loads(self.store.read(self.out.CATEGORIES))


def differences(before: dict, now: dict, flags: dict[str, str]) -> str:
    """What differs between two run records, each option named by its flag (flags: name -> flag)."""
    keys = []
    for k in sorted(set(before) | set(now)):
        if k == "options":
            a, b = before.get(k, {}), now.get(k, {})
            keys += [f"{'command' if o == 'op' else flags.get(o, '--' + o.replace('_', '-'))} {a.get(o)} then {b.get(o)}" for o in sorted(set(a) | set(b)) if a.get(o) != b.get(o)]
        elif before.get(k) != now.get(k):
            keys.append(k.replace("_", " "))
    return ", ".join(keys) or "unreadable record"


def _as_bytes(record: dict) -> bytes:
    return (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()
