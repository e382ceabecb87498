"""A run's last phase: train.csv and skipped.csv merged from the shards' parts (by the run, or by
`mixcli merge` once every shard group is done), OUT cleaned of what no longer belongs to the
run, and the summary the command prints.

The merge joins the shards' parts of train.csv in output-row order, reading one line of each
at a time.
"""

import contextlib
import csv
import heapq
import io
import json
import time

from .. import columns
from ..annotations import coco, yolo
from ..errors import MixcliError
from ..operations import NONE, REGISTRY
from ..outdir import Out
from ..pixels import checked
from ..pixels.codec import decoded
from ..store import open_store
from .formats import table_of


def finish(prep, opened, start: float) -> dict:
    """After the shards ran: merge (the whole run) or report the group's shards."""
    job, out = prep.job, prep.out
    if prep.group is not None:
        return group_summary(prep, time.perf_counter() - start)
    removed = 0
    if not out.store.is_file(out.table) or opened.todo:
        listed, removed = merge_parts(out, len(prep.layout))
        if opened.reused:  # files of an earlier run; a new run starts in an empty OUT
            removed += out.remove_unlisted(listed, prep.beside())
    return {
        **shard_counts(out, range(len(prep.layout))), **object_counts(prep, range(len(prep.layout))), "out": str(out), "csv": out.where(out.table), "classes": len(prep.ds.classes),
        "workers": job.n_workers, "kernels": checked.active(), "decoders": decoded(),
        "seconds": round(time.perf_counter() - start, 3), "ignored_columns": prep.ds.ignored_columns, "removed": removed,
    }


def merge(place) -> dict:
    """`mixcli merge OUT`: train.csv (and skipped.csv) from the shards every group has finished."""
    start = time.perf_counter()
    out = Out(open_store(place))
    if not out.state.exists():
        raise MixcliError(f"{out} holds no mixcli run to merge")
    count = out.state.shards()
    if count is None:
        raise MixcliError(f"{out.where(out.RUN)} records no shards: it was written by another mixcli version")
    out = Out(out.store, table_of(out.state.read(), out.state.labels() is not None))
    before = out.store.is_file(out.table) and not out.state.missing(count) and not any(out.state.has_part(s) for s in range(count))
    if not before:
        merge_parts(out, count)
    done = {**shard_counts(out, range(count)), "out": str(out), "csv": out.where(out.table), "shards": count}
    return {**done, "seconds": 0.0, "merged_before": True} if before else {**done, "seconds": round(time.perf_counter() - start, 3)}


def merge_parts(out: Out, count: int) -> tuple[list[str], int]:
    """train.csv and skipped.csv from the shards' parts, then the parts, the staged images, the
    temporaries and an earlier run's tars go. Return the files train.csv lists and the tars removed."""
    listed = _write_tables(out, count)
    _write_labels(out, count)
    removed = out.remove_stale_tars(listed)
    out.remove_temporaries()
    out.store.delete_tree(out.STAGE)
    out.state.finish(count)
    return listed, removed


def _write_tables(out: Out, count: int) -> list[str]:
    """Write OUT/train.csv (and skipped.csv) from every shard's part; return the files train.csv
    lists (relative to OUT). Raises MixcliError naming the shards not done."""
    absent = out.state.missing(count)
    if absent:
        names = ", ".join(str(s) for s in absent[:20]) + (", ..." if len(absent) > 20 else "")
        raise MixcliError(f"{len(absent)} of {count} shards are not done ({names}): run them, then merge again")
    skipped = sorted(tuple(x) for s in range(count) for x in out.state.shard_stats(s).skipped)
    if skipped:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns.SKIPPED)
        w.writerows((image, error) for _, image, error in skipped)
        out.store.write(out.SKIPPED, buf.getvalue().encode())
    else:
        out.store.delete([out.SKIPPED])
    listed: list[str] = []

    def fill(text) -> None:
        listed.clear()
        with contextlib.ExitStack() as stack:
            parts = [stack.enter_context(out.state.open_part(s)) for s in range(count)]
            headers = [next(p, None) for p in parts]
            if not columns.part_header_ok(headers[0]) or any(h != headers[0] for h in headers):
                raise MixcliError(f"the shards' parts in {out.where(out.WORK)} do not agree: rerun with --overwrite")
            head, line_of = columns.part_header(headers[0]), columns.part_reader(headers[0])
            nest = _nesting(out, count, stack, head) if out.table == columns.METADATA_JSONL else None
            if nest is None:
                text.write(head)
            for line in heapq.merge(*parts, key=columns.part_row):
                rest = line_of(line)
                text.write(rest if nest is None else nest(rest))
                listed.extend(columns.files_of(rest))

    lost = [s for s in range(count) if not out.state.has_part(s)]
    if lost:
        raise MixcliError(f"the parts of train.csv of shards {', '.join(map(str, lost[:20]))} are missing from {out.where(out.WORK)}: rerun with --overwrite")
    out.store.write_text_with(out.table, fill)
    return listed


def _nesting(out: Out, count: int, stack, head: str):
    """For metadata.jsonl: a function from a line of the table (in row order) to its JSON line,
    the row's objects nested as {bbox: [[x, y, w, h], ...] (pixels), category: [id, ...], weight: [...]}."""
    names = next(csv.reader([head]))
    ids = [c["id"] for c in out.state.labels()["categories"]]
    parts = [stack.enter_context(out.state.open_objects(s)) for s in range(count)]
    rows = heapq.merge(*parts, key=_objects_row)

    def nest(line: str) -> str:
        record = {k: columns.json_value(k, v) for k, v in zip(names, next(csv.reader([line])))}
        _, image, _, _, objects = json.loads(next(rows))
        if image != record[columns.FILE_NAME]:
            raise MixcliError(f"the shards' parts in {out.where(out.WORK)} do not agree: rerun with --overwrite")
        record[columns.OBJECTS] = {
            "bbox": [[x1, y1, round(x2 - x1, 6), round(y2 - y1, 6)] for _, x1, y1, x2, y2, *_ in objects],
            "category": [ids[o[0]] for o in objects], "weight": [o[5] for o in objects],
        }
        return json.dumps(record) + "\n"

    return nest


def _objects_row(line: str) -> int:
    """The output row of a line of a shard's objects part ([row, image, w, h, objects])."""
    return int(line[1 : line.index(",")])


def _write_labels(out: Out, count: int) -> None:
    """A detection run's dataset file: OUT/data.yaml (YOLO), or OUT/annotations.json (COCO) from
    the shards' parts in output-row order."""
    labels = out.state.labels()
    if labels is None:
        return
    if labels["format"] == "yolo":
        out.store.write(out.DATA_YAML, yolo.data_yaml(labels["categories"]))
        return
    writer = coco.Writer(labels["categories"])
    with contextlib.ExitStack() as stack:
        parts = [stack.enter_context(out.state.open_objects(s)) for s in range(count)]
        for line in heapq.merge(*parts, key=_objects_row):
            _, image, w, h, objects = json.loads(line)
            writer.add(image, w, h, objects)
    out.store.write(out.ANNOTATIONS, writer.text())


def shard_counts(out: Out, shards) -> dict:
    """Rows per op and the skipped images of these shards, from their stats (never from the table:
    it is merged from the same shards, and may be a million rows of a thousand columns)."""
    stats = [out.state.shard_stats(s) for s in shards]
    skipped = sorted(tuple(x) for st in stats for x in st.skipped)  # as skipped.csv lists them
    return {
        "rows": sum(st.rows for st in stats), **{op: sum(st.ops.get(op, 0) for st in stats) for op in (*REGISTRY, NONE)},
        "skipped": len(skipped), "skipped_images": [image for _, image, _ in skipped],
    }


def object_counts(prep, shards) -> dict:
    """A detection dataset's objects written and dropped by these shards, and what of its labels was not read as given."""
    if prep.ds.objects is None:
        return {}
    stats = [prep.out.state.shard_stats(s) for s in shards]
    return {"objects": sum(st.objects for st in stats), "dropped_objects": sum(st.dropped for st in stats), "notes": prep.ds.notes}


def group_summary(prep, seconds: float) -> dict:
    """What a shard group wrote (its shards' stats), and how many shards of the run are done."""
    state = prep.out.state
    return {
        **shard_counts(prep.out, prep.mine), **object_counts(prep, prep.mine), "out": str(prep.out), "csv": None, "group": list(prep.group), "shards": prep.mine,
        "missing": state.missing(len(prep.layout)), "workers": prep.job.n_workers, "kernels": checked.active(),
        "decoders": decoded(), "seconds": round(seconds, 3),
    }
