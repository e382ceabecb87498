"""Shared helpers and fixtures: small datasets of real files written in tmp_path, the one way
tests call the command line (invoke, invoke_ok, assert_one_line_error), runs through the Python
entry point (run_op, read_out), and the helpers of the tests that kill a run (big_data, start,
wait_for_journal).

Tests that start Ray, moto's S3 server, or kill processes are marked slow: the quick loop is
`python -m pytest -q -m "not slow"`.
"""

import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from mixcli.pixels.codec import read_image

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
# train.csv's text columns, read as text (a name like "1.png" or an empty mask stays text).
TEXT_COLUMNS = {c: str for c in ("image", "source_a", "source_b", "sources", "weights", "boxes", "mask")}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: starts Ray, moto's S3 server or a process to kill (leave out with -m 'not slow')")


# ---------------------------------------------------------------- datasets


def write_dataset(root: Path, shapes, labels, ext=".png", csv_rows=None, seed=0, layout="train") -> Path:
    """Write random images of the given (h, w) shapes and a train.csv; return DATA.

    layout "train": DATA/train.csv beside DATA/train/; "flat": images beside the CSV.
    """
    rng = np.random.default_rng(seed)
    data = root
    img_dir = data / "train" if layout == "train" else data
    img_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for k, (h, w) in enumerate(shapes):
        name = f"img{k:03d}{ext}"
        cv2.imwrite(str(img_dir / name), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        names.append(name)
    rows = csv_rows if csv_rows is not None else list(zip(names, labels))
    (data / "train.csv").write_text("image,label\n" + "".join(f"{n},{l}\n" for n, l in rows))
    return data


def many_rows(root: Path, shape, n: int, files=8) -> Path:
    """A dataset of n rows (labels 0, 1 alternating) that reuse `files` images of one shape."""
    data = write_dataset(root, [shape] * files, [k % 2 for k in range(files)])
    rows = [(f"img{k % files:03d}.png", k % 2) for k in range(n)]
    (data / "train.csv").write_text("image,label\n" + "".join(f"{a},{b}\n" for a, b in rows))
    return data


def big_data(root: Path, n=240, shapes=((160, 200),)) -> Path:
    """root/d: n JPEGs cut from one rolled noise image, row k of size shapes[k % len(shapes)]:
    enough work to be killed half-way."""
    rng = np.random.default_rng(0)
    data = root / "d"
    (data / "train").mkdir(parents=True)
    base = rng.integers(0, 256, (max(h for h, _ in shapes), max(w for _, w in shapes), 3), dtype=np.uint8)
    for k in range(n):
        h, w = shapes[k % len(shapes)]
        cv2.imwrite(str(data / "train" / f"p{k:04d}.jpg"), np.roll(base, k, axis=1)[:h, :w])
    (data / "train.csv").write_text("image,label\n" + "".join(f"p{k:04d}.jpg,{k % 5}\n" for k in range(n)))
    return data


# Non-square sizes, each also transposed, and odd sides: partners are resized, H and W differ.
SHAPES = [(24, 40), (40, 24), (17, 33), (32, 32), (9, 50), (50, 9), (21, 13), (13, 21), (30, 45), (8, 8)]


@pytest.fixture(scope="session", autouse=True)
def kernels_loaded():
    """Load numba once, up front, so small test runs use the kernels too (they would use the NumPy
    twins; test_kernels and test_operations check that both give the same bytes)."""
    from mixcli.pixels import checked as ops

    ops.load_kernels()


@pytest.fixture
def small_data(tmp_path) -> Path:
    """12 PNG images of mixed, non-square sizes in 3 int classes, Kaggle layout."""
    shapes = [(24, 40), (40, 24), (17, 33), (32, 32), (9, 50), (50, 9)] * 2
    return write_dataset(tmp_path / "data", shapes, [k % 3 for k in range(12)])


@pytest.fixture
def data20(tmp_path) -> Path:
    """20 PNG images of the sizes SHAPES (twice) in 3 int classes: chunks of 16 and 4 rows."""
    return write_dataset(tmp_path / "data", SHAPES * 2, [k % 3 for k in range(20)])


# ---------------------------------------------------------------- the command line


def invoke(*args, env=None, input=None):
    """`mixcli ARGS` through Typer's test runner (arguments may be Paths or numbers)."""
    from typer.testing import CliRunner

    from mixcli.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env=env, input=input)


def invoke_ok(*args, env=None, input=None):
    """invoke, asserting that the command exits 0 (its output as the message); the result."""
    result = invoke(*args, env=env, input=input)
    assert result.exit_code == 0, result.output
    return result


def assert_one_line_error(result, code, *words) -> str:
    """The command exited with `code` and said one line on stderr, 'mixcli: error: ...', holding
    every one of `words`, and no traceback; that line."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mixcli: error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.output
    return lines[0]


def mixcli_command(*args) -> list[str]:
    """The command line of `python -m mixcli ARGS` (for subprocess)."""
    return [sys.executable, "-m", "mixcli", *map(str, args)]


def start(data, out, *args, op="cutmix"):
    """Start `mixcli OP DATA OUT --workers 1 --quality 90 ARGS` as a process, to kill or interrupt.
    Its SIGINT is Ctrl-C's default even where the tests run with SIGINT ignored (a shell's
    background job), which the process would inherit, and Python would then leave ignored."""
    return subprocess.Popen(mixcli_command(op, data, out, "--workers", "1", "--quality", "90", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_journal(out: Path, proc, lines=2, timeout=120) -> bool:
    """Wait until the shards' journals under OUT hold `lines` finished chunks (True), or the
    process has ended or the time is up (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if sum(j.read_text().count("\n") for j in (out / ".mixcli" / "shards").glob("*.journal")) >= lines:
            return True
        time.sleep(0.005)
    return False


# ---------------------------------------------------------------- runs through Python and what they write


def read_out(out: Path) -> pd.DataFrame:
    """OUT/train.csv, the text columns as text and an empty cell as NaN."""
    return pd.read_csv(out / "train.csv", keep_default_na=False, na_values=[""], dtype=TEXT_COLUMNS)


def run_op(op, data, out, **options) -> pd.DataFrame:
    """Run operation `op` through mixcli.runner.run (Job.make's options); OUT's table."""
    from mixcli.job import Job
    from mixcli.runner import run

    run(Job.make(op, data, out, **options), progress=False)
    return read_out(out)


def text(v) -> str:
    """A cell as text: '' for an empty one (NaN)."""
    return "" if isinstance(v, float) and math.isnan(v) else str(v)


def load(path: Path) -> np.ndarray:
    return read_image(path)


def visible_files(out: Path) -> dict[str, bytes]:
    """OUT as one machine writes it: every file but the hidden record under OUT/.mixcli."""
    return {k: v for k, v in out_files(out).items() if not k.startswith(".mixcli")}


def out_files(out: Path) -> dict[str, bytes]:
    """Every file under OUT but the shards' stats (their seconds differ from run to run)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and not (p.parent.name == "shards" and p.suffix == ".json")}
