"""--dry-run: what the run (or its shard group) would write, nothing written: rows per op from
the plan, and the first DRY_ROWS rows of train.csv from painting (in memory) the chunks that hold them."""

import threading
import time
from collections import Counter

from ..operations import NONE, REGISTRY
from .chunk import paint_chunk
from .opening import check_record, resuming, reusable

DRY_ROWS = 5  # rows of train.csv a dry run shows


def dry_run(prep, start: float) -> dict:
    job, ds, plan, out = prep.job, prep.ds, prep.plan, prep.out
    again = resuming(prep)
    out.check(ds.inputs, reuse=reusable(prep, again))
    if again:
        check_record(prep)
    n = len(ds)
    if prep.group is not None:  # the rows of the group's shards only
        inputs = {int(i) for s in prep.mine for c in prep.layout[s] for i in plan.chunks[c]}
        rows = [r for r in range(len(prep.names)) if r % n in inputs]
    else:
        rows = list(range(len(prep.names)))
    ops = Counter(job.operation.row_op(plan.row(r)) if r < len(plan) and plan.mixed[r] else NONE for r in rows)
    chunk_of = {int(i): c for c, chunk in enumerate(plan.chunks) for i in chunk}
    results: dict = {}
    first = []  # the first DRY_ROWS output rows not dropped by --skip-bad, painting their chunks as needed
    for r in rows:
        if len(first) == DRY_ROWS:
            break
        if r not in results:
            results.update(paint_chunk(job, plan, ds, chunk_of[r % n], lambda *_: None, threading.Event()).results())
        if not results[r].error:
            first.append(r)
    table = prep.table([results[r] for r in first], first)
    prep.format.show(prep, table, [first[k] for k in table.kept])
    return {
        "dry_run": True, "rows": len(rows), **{name: ops[name] for name in (*REGISTRY, NONE)},
        "out": str(out), "csv": out.where(out.table) if prep.group is None else None,
        **({"group": list(prep.group), "shards": prep.mine} if prep.group is not None else {}),
        "classes": [str(c) for c in ds.classes] if ds.targets is not None else [str(c["name"]) for c in ds.objects.categories] if ds.objects else [], "first_rows": table.csv_text(), "seconds": round(time.perf_counter() - start, 3),
    }
