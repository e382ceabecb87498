"""A run's record in OUT/.mixcli: the options it was started with and a journal of finished chunks.

A chunk's journal line is appended only after all its files are renamed into place, so a run
killed at any moment can be resumed from the journal: finished chunks are kept, the others
redone. Everything is deterministic per chunk, so the result is the same bytes either way.
"""

import json
from dataclasses import asdict
from pathlib import Path

from . import __version__
from .errors import MixcliError
from .mixing import ChunkResult
from .writer import STATE, write_atomic

RUN = "run.json"
JOURNAL = "journal.jsonl"
# Options that change no output byte: a resume may differ in these.
_OPTION = {"op": "command", "fmt": "--format"}  # Job fields whose option is named otherwise
_FREE = {"data", "out", "csv", "image_dir", "workers", "overwrite", "resume", "dry_run"}


def run_record(job, digest: str, rows: int) -> dict:
    """What makes OUT what it is: the version, the options and the input's digest (of the CSV's
    bytes, or of the class-folder listing)."""
    opts = {k: v for k, v in asdict(job).items() if k not in _FREE}
    opts.update(opts.pop("params"))  # an operation's options are recorded beside the shared ones
    opts = json.loads(json.dumps(opts, default=str))
    return {"mixcli": __version__, "options": opts, "input_sha256": digest, "rows": rows}


def start(out: Path, record: dict) -> None:
    """Record a new run in OUT (an empty journal)."""
    state = out / STATE
    state.mkdir(exist_ok=True)  # prepare_out has refused a symlink here
    write_atomic(state / RUN, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
    write_atomic(state / JOURNAL, b"")


def has_run(out: Path) -> bool:
    return (out / STATE / RUN).is_file()


def check(out: Path, record: dict) -> None:
    """Refuse to resume the run recorded in OUT with other options or input (reads only)."""
    path = out / STATE / RUN
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        raise MixcliError(f"cannot read {path}: start again with --overwrite") from None
    if before != record:
        diff = _differences(before, record)
        raise MixcliError(f"{out} was started with other options or input ({diff}): rerun with those, or use --overwrite")


def resume(out: Path, record: dict) -> list[ChunkResult] | None:
    """The finished chunks of the run recorded in OUT (None if it is complete); refuse other options."""
    check(out, record)
    done = []
    journal = out / STATE / JOURNAL
    if not journal.is_file() and (out / "train.csv").is_file():
        return None
    if journal.is_file():
        for line in journal.read_text().splitlines():
            try:
                done.append(ChunkResult(**json.loads(line)))
            except (ValueError, TypeError):
                break  # a line cut short by a kill: that chunk is redone
    write_atomic(journal, "".join(json.dumps(asdict(r)) + "\n" for r in done).encode())
    return done


def append(out: Path, result: ChunkResult) -> None:
    """Add a finished chunk to the journal."""
    with open(out / STATE / JOURNAL, "a") as f:
        f.write(json.dumps(vars(result)) + "\n")  # its fields are plain lists: asdict's deep copy is not needed


def finish(out: Path) -> None:
    """Drop the journal once train.csv is in place; run.json stays as a record of how OUT was made."""
    (out / STATE / JOURNAL).unlink(missing_ok=True)


def _differences(before: dict, now: dict) -> str:
    keys = []
    for k in sorted(set(before) | set(now)):
        if k == "options":
            a, b = before.get(k, {}), now.get(k, {})
            keys += [f"{_OPTION.get(o, '--' + o.replace('_', '-'))} {a.get(o)} then {b.get(o)}" for o in sorted(set(a) | set(b)) if a.get(o) != b.get(o)]
        elif before.get(k) != now.get(k):
            keys.append(k.replace("_", " "))
    return ", ".join(keys) or "unreadable record"
