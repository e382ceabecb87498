"""A run's record in OUT/.mixcli: the options it was started with, and its shards' progress.

The plan's chunks are grouped into fixed shards (mixcli.shards). While a shard runs, each
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
import os
import secrets
import time
from dataclasses import asdict
from pathlib import Path

from . import __version__
from .errors import MixcliError
from .mixing import ChunkResult
from .store import CONDITIONAL, StoreError, fetch, is_remote
from .writer import SHARDS, STATE, remove_files, remove_tree, write_atomic, write_text_with

RUN = "run.json"
# Options that change no output byte: a resume may differ in these.
_OPTION = {"op": "command", "fmt": "--format"}  # Job fields whose option is named otherwise
_FREE = {"data", "out", "csv", "image_dir", "workers", "overwrite", "resume", "dry_run", "num_shards", "shard_index", "distributor", "ray_address"}


def run_record(job, digest: str, rows: int, shards: int) -> dict:
    """What makes OUT what it is: the version, the options, the input's digest (of the CSV's
    bytes, or of the class-folder listing), and the number of shards."""
    opts = {k: v for k, v in asdict(job).items() if k not in _FREE}
    opts.update(opts.pop("params"))  # an operation's options are recorded beside the shared ones
    opts = json.loads(json.dumps(opts, default=str))
    return {"mixcli": __version__, "options": opts, "input_sha256": digest, "rows": rows, "shards": shards}


def start(out: Path, record: dict) -> None:
    """Record a new run in OUT, with no shard done."""
    folder = shards_folder(out)
    if is_remote(out):
        folder.remove_tree()
    else:
        folder.mkdir(parents=True, exist_ok=True)  # prepare_out has refused a symlinked OUT/.mixcli
        if folder.is_symlink():
            raise MixcliError(f"{folder} is not a plain folder: refusing to write through it")
        for p in folder.iterdir():
            p.unlink()
    write_atomic(out / STATE / RUN, _as_bytes(record))


def join(out: Path, record: dict) -> None:
    """Take part in the run recorded in OUT (a shard group of an array job), or record it: run.json
    is created exclusively, so of groups starting together one records and the others check."""
    shards_folder(out).mkdir(parents=True, exist_ok=True)
    path = out / STATE / RUN
    if is_remote(out) and not path.is_file():
        try:
            path.write_with(lambda f: f.write(_as_bytes(record)), exclusive=path.protocol in CONDITIONAL)
        except (FileExistsError, StoreError) as e:  # another group's came first (AWS may say so as a conflict, 409)
            time.sleep(1)
            if not path.is_file():
                raise e if isinstance(e, MixcliError) else MixcliError(f"cannot write {path}: {e}") from None
        # Read back: a store that ignores the condition lets the last writer win, and the others see it here.
    elif not path.is_file():
        tmp = path.with_name(f".{RUN}.{secrets.token_hex(4)}")
        try:
            tmp.write_bytes(_as_bytes(record))
            os.link(tmp, path)
            return
        except FileExistsError:
            pass
        except OSError as e:
            raise MixcliError(f"cannot write {path}: {e.strerror or e}") from None
        finally:
            tmp.unlink(missing_ok=True)
    check(out, record)


def _as_bytes(record: dict) -> bytes:
    return (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()


def has_run(out: Path) -> bool:
    return (out / STATE / RUN).is_file()


def read_record(out: Path) -> dict:
    path = out / STATE / RUN
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise MixcliError(f"cannot read {path}: start again with --overwrite") from None


def check(out: Path, record: dict) -> None:
    """Refuse to resume the run recorded in OUT with other options or input (reads only)."""
    before = read_record(out)
    if before != record:
        diff = _differences(before, record)
        raise MixcliError(f"{out} was started with other options or input ({diff}): rerun with those, or use --overwrite")


def shards_folder(out: Path) -> Path:
    return out / STATE / SHARDS


def _name(s: int) -> str:
    return f"{s:06d}"


def shard_done(out: Path, s: int) -> bool:
    return _stats_path(out, s).is_file()


def shard_stats(out: Path, s: int) -> dict:
    path = _stats_path(out, s)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise MixcliError(f"cannot read {path}: rerun that shard") from None


def part_path(out: Path, s: int) -> Path:
    return shards_folder(out) / f"{_name(s)}.csv"


def _stats_path(out: Path, s: int) -> Path:
    return shards_folder(out) / f"{_name(s)}.json"


def _journal_path(out: Path, s: int) -> Path:
    """A file of lines; in a store, a prefix of one object a chunk."""
    return shards_folder(out) / f"{_name(s)}.journal"


def journal(out: Path, s: int) -> list[ChunkResult]:
    """The finished chunks of unfinished shard s (its journal rewritten without a line cut short)."""
    path = _journal_path(out, s)
    done = []
    if is_remote(out):
        objects = [path / name for name in path.find() if name.endswith(".json")]
        for data in fetch(objects) if objects else []:
            try:
                done.append(ChunkResult(**json.loads(data)))
            except (ValueError, TypeError):  # gone meanwhile (a group run twice: a FileNotFoundError) or unreadable: redone, to the same bytes
                pass
        return done
    if path.is_file():
        seen = set()
        for line in path.read_text().splitlines():
            try:
                result = ChunkResult(**json.loads(line))
            except (ValueError, TypeError):
                break  # a line cut short by a kill: that chunk is redone
            if result.chunk not in seen:  # a group run twice at once journals a chunk twice, with the same content
                seen.add(result.chunk)
                done.append(result)
        write_atomic(path, "".join(json.dumps(asdict(r)) + "\n" for r in done).encode())
    return done


def append(out: Path, s: int, result: ChunkResult) -> None:
    """Add a finished chunk to shard s's journal."""
    if is_remote(out):
        write_atomic(_journal_path(out, s) / f"{_name(result.chunk)}.json", json.dumps(vars(result)).encode())
        return
    with open(_journal_path(out, s), "a") as f:
        f.write(json.dumps(vars(result)) + "\n")  # its fields are plain lists: asdict's deep copy is not needed


def finish_shard(out: Path, s: int, fill_part, stats: dict) -> None:
    """Shard s is done: its part of train.csv (what fill_part(text) writes), then its stats (the mark), then no journal."""
    write_text_with(part_path(out, s), fill_part)
    write_atomic(_stats_path(out, s), (json.dumps(stats, sort_keys=True) + "\n").encode())
    remove_tree(_journal_path(out, s))


def finish(out: Path, shards: int) -> None:
    """train.csv is in place: the parts it was made from go; run.json and the stats stay as the record."""
    remove_files(shards_folder(out), [part_path(out, s).name for s in range(shards)])


def _differences(before: dict, now: dict) -> str:
    keys = []
    for k in sorted(set(before) | set(now)):
        if k == "options":
            a, b = before.get(k, {}), now.get(k, {})
            keys += [f"{_OPTION.get(o, '--' + o.replace('_', '-'))} {a.get(o)} then {b.get(o)}" for o in sorted(set(a) | set(b)) if a.get(o) != b.get(o)]
        elif before.get(k) != now.get(k):
            keys.append(k.replace("_", " "))
    return ", ".join(keys) or "unreadable record"
