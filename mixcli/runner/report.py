"""How the command tells a run's summary: one line on stderr."""

from ..operations import NONE, REGISTRY


def summary_line(s: dict) -> str:
    """The line a run's (or a dry run's, or a shard group's) summary is told in."""
    ops = ", ".join(f"{s[op]} {op}" for op in (*REGISTRY, NONE) if s[op])
    if s.get("dry_run"):
        classes = ", ".join(s["classes"][:10]) + (", ..." if len(s["classes"]) > 10 else "")
        what = f"{s['rows']} images ({ops}) and {s['csv']}"
        if s.get("group"):
            what = f"{s['rows']} images ({ops}) of shard group {s['group'][0]} of {s['group'][1]} ({len(s['shards'])} shard(s)) and no train.csv (mixcli merge writes it)"
        return f"mixcli: dry run: would write {what}; {len(s['classes'])} classes: {classes}; nothing written"
    skipped = f"; skipped {s['skipped']} bad image(s): {', '.join(s['skipped_images'][:10])}" if s["skipped"] else ""
    if s.get("group"):
        i, n = s["group"]
        left = f"{len(s['missing'])} shard(s) of the run not done yet" if s["missing"] else f"every shard is done: mixcli merge {s['out']}"
        return f"mixcli: shard group {i} of {n}: {len(s['shards'])} shard(s), {s['rows']} images ({ops}) in {s['seconds']:.1f} s{skipped}; {left}"
    removed = f"; removed {s['removed']} file(s) of an earlier run" if s.get("removed") else ""
    ignored = f"; ignored column(s) {', '.join(s['ignored_columns'])}" if s.get("ignored_columns") else ""
    return f"mixcli: wrote {s['rows']} images ({ops}){_objects(s)} and {s['csv']} in {s['seconds']:.1f} s{skipped}{removed}{ignored}"


def _objects(s: dict) -> str:
    """A detection run's objects, as the summary line says them."""
    if "objects" not in s:
        return ""
    notes = "".join(f"; {note}" for note in s["notes"])
    return f" with {s['objects']} objects ({s['dropped_objects']} dropped by --min-visibility or --min-box-size{notes})"
