"""The `mixcli` command line: one thin Typer command per registered operation, over mixcli.runner.

Every option is derived from its declaration (mixcli.job.Job and Messages for the options all
operations take, each operation's dataclass for its own), and `mixcli OP --help` lists them
under their panels. Nothing heavy is imported at module level, so `mixcli --help` stays instant.
"""

import contextlib
import inspect
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .job import Job, Messages
from .operations import REGISTRY
from .options import Declared, declared
from .version import __version__

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

# Paths are taken as text: a URL (s3://bucket/prefix) must keep its '//' (mixcli.store reads both).
Data = Annotated[str, typer.Argument(metavar="DATA", help="Dataset folder (or s3://bucket/prefix) holding train.csv, the images, or a train/ folder of them.", show_default=False)]
Out = Annotated[str, typer.Argument(metavar="OUT", help="Output folder (or s3://bucket/prefix): mixed images under OUT/images and OUT/train.csv.", show_default=False)]
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


class _Command(typer.core.TyperCommand):
    """Options listed under their panels; required arguments written DATA, not {DATA}."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [piece.strip("{}") for piece in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx, formatter) -> None:
        sections: dict[str, list] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                panel = "Arguments" if param.param_type_name == "argument" else getattr(param, "rich_help_panel", None) or "Options"
                sections.setdefault(panel, []).append(record)
        for panel, records in sections.items():
            with formatter.section(panel):
                formatter.write_dl(records)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mixcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    pass


def _parameter(d: Declared, panel: str | None = None) -> inspect.Parameter:
    """A declared option as a keyword of a Typer command (text where the option is parsed from text)."""
    typ = Optional[str] if d.spec.parse is not None else d.type
    show = d.spec.show_default and d.default is not None
    info = typer.Option(*d.flags, metavar=d.spec.metavar, help=d.spec.help, show_default=show, rich_help_panel=panel or d.spec.panel)
    return inspect.Parameter(d.name, _KEYWORD, default=d.default, annotation=Annotated[typ, info])


def _add_command(op) -> None:
    """One command per registered operation: DATA OUT, its own options, then the shared ones."""

    def command(**opts) -> None:
        _run(opts, op.name)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    command.__signature__ = inspect.Signature(
        [inspect.Parameter("data", positional, annotation=Data), inspect.Parameter("out", positional, annotation=Out)]
        + [_parameter(d, f"{op.name} options") for d in declared(op)]
        + [_parameter(d) for d in declared(Job) + declared(Messages)]
    )
    command.__doc__ = op.summary
    app.command(op.name, cls=_Command)(command)


for _op in REGISTRY.values():
    _add_command(_op)

_PREVIEWED = ("seed", "pairing", "size", "csv", "image_dir", "layout", "annotations", "min_visibility", "min_box_size", "interpolation")  # the run's options that preview takes too


def _preview_command():
    def preview(ctx: typer.Context, data: str, op: str, n: int, output: Path, **shared) -> None:
        """A contact sheet PNG of N mixed samples with their classes and weights; OP's own options
        (see mixcli OP --help) follow. Writes that one file and nothing else."""
        if op not in REGISTRY:
            raise typer.BadParameter(f"must be one of {', '.join(REGISTRY)}, got {op!r}", param_hint="--op")
        options = _parse_op_options(REGISTRY[op], ctx.args)
        _execute(
            lambda: _preview(op, data, options, n=n, output=output, **shared),
            lambda s: f"mixcli: wrote {s['out']}: {s['samples']} {op} samples, {s['width']}x{s['height']}",
            quiet=False, as_json=False,
        )

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    own = [
        inspect.Parameter("op", _KEYWORD, annotation=Annotated[str, typer.Option("--op", metavar="OP", help=f"The operation: {', '.join(REGISTRY)}.", show_default=False)]),
        inspect.Parameter("n", _KEYWORD, default=9, annotation=Annotated[int, typer.Option("-n", metavar="N", help="Number of samples.")]),
        inspect.Parameter("output", _KEYWORD, default=Path("preview.png"), annotation=Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="The PNG to write (replaced if it exists).")]),
    ]
    preview.__signature__ = inspect.Signature(
        [inspect.Parameter("ctx", positional, annotation=typer.Context), inspect.Parameter("data", positional, annotation=Data)]
        + own + [_parameter(d, "Options") for d in declared(Job) if d.name in _PREVIEWED]
    )
    app.command("preview", cls=_Command, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(preview)


_preview_command()


def _parse_op_options(op, args: list[str]) -> dict:
    """An operation's own options from the words left on preview's command line (usage errors exit 2)."""
    sub = typer.Typer(add_completion=False, rich_markup_mode=None)

    def command(**opts) -> None:
        pass

    command.__signature__ = inspect.Signature([_parameter(d) for d in declared(op)])
    sub.command(op.name)(command)
    ctx = typer.main.get_command(sub).make_context(f"mixcli preview --op {op.name}", list(args))
    return ctx.params


def _merge_command():
    def merge(out: str, **messages) -> None:
        """Write OUT/train.csv (and skipped.csv) once every shard group of a run in OUT has finished;
        fails naming the shards not done."""

        def work() -> dict:
            from .runner import merge as merge_out

            return merge_out(out)

        _execute(work, lambda s: f"mixcli: merged {s['shards']} shards: {s['rows']} rows in {s['csv']}", messages["quiet"], messages["json"])

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    merge.__signature__ = inspect.Signature([inspect.Parameter("out", positional, annotation=Out)] + [_parameter(d, "Options") for d in declared(Messages)])
    app.command("merge", cls=_Command)(merge)


_merge_command()


def _preview(op: str, data: str, options: dict, *, n, output, **shared) -> dict:
    from .runner.preview import preview

    job = Job.make(op, data, output.parent, **_blank_size(shared), **options)
    return preview(job, n, output)


def _blank_size(options: dict) -> dict:
    """An empty --size keeps the sizes, as an absent one does."""
    return {**options, "size": None} if options.get("size") == "" else options


def _run(opts: dict, op: str) -> None:
    """Build the Job from a command's options, run it, report."""
    quiet, as_json = opts.pop("quiet"), opts.pop("json")

    def job_run() -> dict:
        from .runner import hold_freed_memory, run

        job = Job.make(op, **_blank_size(opts))
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
    from .runner.report import summary_line

    return summary_line(s)


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
