"""The `mixcli` command line: one thin Typer command per registered operation, over mixcli.pipeline.run.

Nothing heavy is imported at module level, so `mixcli --help` stays instant.
"""

import contextlib
import inspect
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .operations import NONE, REGISTRY

EXAMPLES = """
Examples:

  mixcli mixup data/ out/ --alpha 0.2

  mixcli cutmix data/ out/ --prob 0.5 --size 256x256 --format png

  mixcli mix data/ out/             # CutMix or MixUp per row

  mixcli preview data/ --op mosaic  # a sheet of samples

  mixcli cutmix out/ out2/          # chain: out/ is a valid DATA
"""

app = typer.Typer(
    help="Mix a labelled image folder (DATA/train.csv) into OUT, with soft labels: MixUp, CutMix, "
    "timm's switch between them, ResizeMix, Mosaic, FMix and Cutout.\n\n" + EXAMPLES,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# Paths are taken as text: a URL (s3://bucket/prefix) must keep its '//' (store.location reads both).
Data = Annotated[str, typer.Argument(metavar="DATA", help="Dataset folder (or s3://bucket/prefix) holding train.csv, the images, or a train/ folder of them.", show_default=False)]
Out = Annotated[str, typer.Argument(metavar="OUT", help="Output folder (or s3://bucket/prefix): mixed images under OUT/images and OUT/train.csv.", show_default=False)]

# The options every operation takes, in the order --help lists them after the operation's own.
SHARED = [
    ("prob", float, 1.0, typer.Option(help="Probability that a row is mixed; other rows pass through unchanged.")),
    ("label_smoothing", float, 0.0, typer.Option(metavar="EPS", help="Label smoothing EPS: y = (1-EPS)*y + EPS/K before mixing.")),
    ("soft", bool, False, typer.Option("--soft", help="Read the p_<class> columns as soft labels even when the CSV has a label column.")),
    ("copies", int, 1, typer.Option(metavar="K", help="Outputs per input row, each with its own draws (partner, weights, whether it mixes).")),
    ("keep_originals", bool, False, typer.Option("--keep-originals", help="Also write every input row once, unmixed (op none).")),
    ("size", Optional[str], None, typer.Option(metavar="WxH", help="Resize every image to WIDTHxHEIGHT first, e.g. 256x256 [default: keep sizes].", show_default=False)),
    ("fmt", str, "jpg", typer.Option("--format", metavar="jpg|png", help="Output image format: jpg or png (lossless).")),
    ("quality", int, 95, typer.Option(help="JPEG quality, 1-100.")),
    ("seed", int, 0, typer.Option(metavar="N", help="Random seed: the same seed writes the same bytes, whatever --workers.")),
    ("workers", int, 0, typer.Option(metavar="N", help="Worker threads [default: the cores this process may use].", show_default=False)),
    ("csv", Optional[str], None, typer.Option("--csv", help="CSV to read instead of DATA/train.csv ('-': standard input).", show_default=False)),
    ("image_dir", Optional[str], None, typer.Option(help="Folder the CSV's image paths are relative to [default: DATA or DATA/train].", show_default=False)),
    ("layout", str, "auto", typer.Option(metavar="auto|csv|folders", help="Input layout: a CSV, or class folders DATA/<class>/<image> (auto: folders when there is no train.csv).")),
    ("image_col", str, "image", typer.Option(metavar="NAME", help="The CSV's column of image paths.")),
    ("label_col", str, "label", typer.Option(metavar="NAME", help="The CSV's column of labels.")),
    ("label_sep", Optional[str], None, typer.Option(metavar="SEP", help="Multi-label: each label lists classes joined by SEP (e.g. '|'); targets are multi-hot.", show_default=False)),
    ("overwrite", bool, False, typer.Option("--overwrite", help="Write into a non-empty OUT (its train.csv is replaced).")),
    ("resume", bool, False, typer.Option("--resume", help="Finish an interrupted run in OUT (same options): keeps finished images.")),
    ("skip_bad", bool, False, typer.Option("--skip-bad", help="Drop rows whose image cannot be decoded (listed in OUT/skipped.csv) instead of stopping.")),
    ("label_format", str, "dense", typer.Option(metavar="dense|sparse", help="dense: a p_<class> column a class; sparse: one soft_label column of class:weight pairs joined by ';' (zeros left out), for many classes.")),
    ("out_format", str, "files", typer.Option(metavar="files|webdataset", help="webdataset: tar files OUT/shards/NNNNNN.tar of samples <key>.jpg + <key>.json (its train.csv row), for streaming loaders; train.csv indexes them.")),
    ("samples_per_tar", int, 1000, typer.Option(metavar="N", help="--out-format webdataset: samples a tar file.")),
    ("out_layout", str, "flat", typer.Option(metavar="flat|folders", help="flat: OUT/images/<name>; folders: OUT/images/<label>/<name>, for tools that read class folders.")),
    ("shard_size", int, 10_000, typer.Option(metavar="ROWS", help="Input rows a shard: the unit of work of shard groups and of --resume (a multiple of 16).")),
    ("shards", Optional[str], None, typer.Option(metavar="I/N", help="Run shard group I of N only, into an OUT shared with the other groups, without writing train.csv (then: mixcli merge OUT); all: the whole run, whatever the environment [default: from a Slurm array, srun's tasks or JOB_COMPLETION_INDEX, else the whole run].", show_default=False)),
    ("num_shards", Optional[int], None, typer.Option(metavar="N", help="The N of --shards, alone for a Kubernetes Indexed Job (the index from JOB_COMPLETION_INDEX).", show_default=False)),
    ("shard_index", Optional[int], None, typer.Option(metavar="I", help="The I of --shards.", show_default=False)),
    ("distributor", str, "local", typer.Option(metavar="local|ray", help="ray: each shard is a Ray task of --workers threads [default 1] (pip install 'mixcli[ray]'); OUT must be reachable from every node.")),
    ("ray_address", Optional[str], None, typer.Option(metavar="ADDR", help="The Ray cluster to use [default: RAY_ADDRESS, else a local Ray].", show_default=False)),
    ("dry_run", bool, False, typer.Option("--dry-run", "-n", help="Check everything and print what would be written (rows per op, classes, the first rows of train.csv); write nothing.")),
    ("quiet", bool, False, typer.Option("--quiet", "-q", help="No progress bar and no summary line.")),
    ("json_", bool, False, typer.Option("--json", help="Print a JSON summary on stdout.")),
]


class _Command(typer.core.TyperCommand):
    """Typer writes required arguments as {DATA} in the usage line; mixcli's help says DATA."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [piece.strip("{}") for piece in super().collect_usage_pieces(ctx)]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mixcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    pass


def _option(param) -> tuple:
    """An operation's declared option (operations.Param) as a (name, type, default, typer.Option) entry."""
    show = param.default is not None
    return param.name, param.type, param.default, typer.Option(*param.flags, metavar=param.metavar, help=param.help, show_default=show)


def _parameters(entries) -> list[inspect.Parameter]:
    kind = inspect.Parameter.KEYWORD_ONLY
    return [inspect.Parameter(name, kind, default=default, annotation=Annotated[typ, info]) for name, typ, default, info in entries]


def _add_command(op) -> None:
    """One command per registered operation: DATA OUT, its own options, then the shared ones."""

    def command(**opts) -> None:
        _run(opts, op.name)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    command.__signature__ = inspect.Signature(
        [inspect.Parameter("data", positional, annotation=Data), inspect.Parameter("out", positional, annotation=Out)]
        + _parameters([_option(p) for p in op.params] + SHARED)
    )
    command.__doc__ = op.summary
    app.command(op.name, cls=_Command)(command)


for _op in REGISTRY.values():
    _add_command(_op)


@app.command(cls=_Command, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def preview(
    ctx: typer.Context,
    data: Data,
    op: Annotated[str, typer.Option("--op", metavar="OP", help=f"The operation: {', '.join(REGISTRY)}.", show_default=False)],
    n: Annotated[int, typer.Option("-n", metavar="N", help="Number of samples.")] = 9,
    output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="The PNG to write (replaced if it exists).")] = Path("preview.png"),
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed, as for the operation's command.")] = 0,
    size: Annotated[Optional[str], typer.Option(metavar="WxH", help="Resize every image to WIDTHxHEIGHT first.", show_default=False)] = None,
    csv: Annotated[Optional[str], typer.Option("--csv", help="CSV to read instead of DATA/train.csv.", show_default=False)] = None,
    image_dir: Annotated[Optional[str], typer.Option(help="Folder the CSV's image paths are relative to.", show_default=False)] = None,
) -> None:
    """A contact sheet PNG of N mixed samples with their classes and weights; OP's own options
    (see mixcli OP --help) follow. Writes that one file and nothing else."""
    if op not in REGISTRY:
        raise typer.BadParameter(f"must be one of {', '.join(REGISTRY)}, got {op!r}", param_hint="--op")
    options = _parse_op_options(REGISTRY[op], ctx.args)
    _execute(
        lambda: _preview(op, data, options, n=n, output=output, seed=seed, size=size, csv=csv, image_dir=image_dir),
        lambda s: f"mixcli: wrote {s['out']}: {s['samples']} {op} samples, {s['width']}x{s['height']}",
        quiet=False, as_json=False,
    )


def _parse_op_options(op, args: list[str]) -> dict:
    """An operation's own options from the words left on preview's command line (usage errors exit 2)."""
    sub = typer.Typer(add_completion=False, rich_markup_mode=None)

    def command(**opts) -> None:
        pass

    command.__signature__ = inspect.Signature(_parameters([_option(p) for p in op.params]))
    sub.command(op.name)(command)
    ctx = typer.main.get_command(sub).make_context(f"mixcli preview --op {op.name}", list(args))
    return ctx.params


@app.command(cls=_Command)
def merge(
    out: Out,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
) -> None:
    """Write OUT/train.csv (and skipped.csv) once every shard group of a run in OUT has finished;
    fails naming the shards not done."""

    def work() -> dict:
        from .pipeline import merge as merge_out

        return merge_out(out)

    _execute(work, lambda s: f"mixcli: merged {s['shards']} shards: {s['rows']} rows in {s['csv']}", quiet, json_)


def _preview(op: str, data: Path, options: dict, *, n, output, seed, size, csv, image_dir) -> dict:
    from .config import Job, parse_size
    from .preview import preview

    job = Job.make(op, data, output.parent, seed=seed, size=parse_size(size) if size else None, csv=csv, image_dir=image_dir, **options)
    return preview(job, n, output)


def _run(opts: dict, op: str) -> None:
    """Build the Job from a command's options, run it, report."""
    quiet, as_json = opts.pop("quiet"), opts.pop("json_")

    def job_run() -> dict:
        from .config import Job, parse_size
        from .errors import UsageError
        from .pipeline import hold_freed_memory, run
        from .shards import parse as parse_shards

        opts["size"] = parse_size(opts["size"]) if opts["size"] else None
        group = opts.pop("shards")
        if group is not None:
            if opts["num_shards"] is not None or opts["shard_index"] is not None:
                raise UsageError("--shards excludes --num-shards and --shard-index")
            opts["shard_index"], opts["num_shards"] = parse_shards(group)
        job = Job.make(op, **opts)
        hold_freed_memory()
        return run(job, progress=not quiet)

    summary = _execute(job_run, _summary_line, quiet, as_json)
    if summary.get("dry_run") and not as_json:
        typer.echo(summary["first_rows"], nl=False)  # data: stdout


def _execute(work, describe, quiet: bool, as_json: bool) -> dict:
    """Run work() and report its summary (which it returns); errors become one line and an exit code."""
    import os
    import signal

    from .errors import MixcliError

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with _native_stderr_silenced():
            summary = work()
    except MixcliError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:  # before the pipeline could catch it
        _fail("interrupted", 130)
    except Exception as e:  # a bug: one line, the traceback only on request
        if os.environ.get("MIXCLI_DEBUG"):
            raise
        _fail(f"internal error: {type(e).__name__}: {e} (set MIXCLI_DEBUG=1 for the traceback)", 1)
    if not quiet:
        typer.echo(describe(summary), err=True)
    if as_json:
        typer.echo(json.dumps(summary))
    return summary


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null, where libpng and libjpeg print their own messages,
    while sys.stderr (the progress bar, mixcli's lines) keeps writing to the real stderr."""
    import os

    try:
        real_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. under a test runner)
        real_fd = -1
    if real_fd != 2:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    old, sys.stderr = sys.stderr, os.fdopen(os.dup(saved), "w", buffering=1, errors="backslashreplace")
    try:
        yield
    finally:
        sys.stderr.close()
        sys.stderr = old
        os.dup2(saved, 2)
        os.close(saved)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops like Ctrl-C: finished work is kept for --resume


def _fail(message: str, code: int) -> None:
    first = (message.strip().splitlines() or [""])[0]
    typer.echo(f"mixcli: {'error: ' if code != 130 else ''}{first}", err=True)
    raise typer.Exit(code)


def _summary_line(s: dict) -> str:
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
    return f"mixcli: wrote {s['rows']} images ({ops}) and {s['csv']} in {s['seconds']:.1f} s{skipped}{removed}{ignored}"


def main() -> None:
    import os

    try:
        app(prog_name="mixcli")
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a closed pipe (mixcli ... --json | head): nothing more to say
            pass
    # Skip interpreter teardown: numba's and LLVM's take ~0.3 s, and every file is closed.
    os._exit(code)
