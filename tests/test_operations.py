"""What holds for every operation of the registry (mixcli.operations.REGISTRY), end to end with real
files: the same bytes whatever the workers, numba vs NumPy, --resume after SIGKILL, --skip-bad,
an output as the next operation's input, usage errors and --help. Each operation's own tests
(its pixels re-derived by tests/reference.py, its draws) are in tests/test_op_<operation>.py."""

import signal
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import (assert_one_line_error, big_data, invoke, invoke_ok, mixcli_command, out_files, read_out, run_op, start,
                      wait_for_journal)
from mixcli.job import Job
from mixcli.operations import REGISTRY
from mixcli.runner import run
from reference import verify

OPS = list(REGISTRY)


def test_every_operation_has_its_test_file():
    from pathlib import Path

    here = Path(__file__).parent
    assert [op for op in OPS if not (here / f"test_op_{op}.py").is_file()] == []


@pytest.mark.parametrize("op", OPS)
def test_same_seed_same_bytes_whatever_the_workers(data20, tmp_path, op):
    for workers in (1, 2, 3):
        run(Job.make(op, data20, tmp_path / f"w{workers}", seed=7, prob=0.7, fmt="png", workers=workers), progress=False)
    first = out_files(tmp_path / "w1")
    assert first == out_files(tmp_path / "w2") == out_files(tmp_path / "w3")
    if op == "fmix":
        assert any(name.startswith("masks/") for name in first)
    run(Job.make(op, data20, tmp_path / "other", seed=8, prob=0.7, fmt="png", workers=2), progress=False)
    other = out_files(tmp_path / "other")
    images = [k for k in first if k.startswith("images/")]
    assert sum(first[k] != other[k] for k in images) > len(images) // 3


@pytest.mark.parametrize("op", OPS)
def test_numba_and_numpy_paths_write_the_same_bytes(data20, tmp_path, monkeypatch, op):
    from mixcli.pixels import checked as ops

    loaded = ops.load_kernels()
    summaries = {}
    for path, threshold in (("numpy", 10**9), ("numba", 1)):
        monkeypatch.setattr(ops, "_kernels", None)
        monkeypatch.setattr(ops, "WORTH_LOADING", threshold)
        summaries[path] = run(Job.make(op, data20, tmp_path / path, seed=12, prob=0.8, fmt="png"), progress=False)
    monkeypatch.setattr(ops, "_kernels", loaded)
    assert summaries["numpy"]["kernels"] == "numpy" and summaries["numba"]["kernels"] == "numba"
    assert out_files(tmp_path / "numpy") == out_files(tmp_path / "numba")


@pytest.mark.slow
@pytest.mark.parametrize("op", ["mosaic", "fmix"])
def test_sigkill_then_resume_gives_the_same_bytes(tmp_path, op):
    # 240 JPEGs of two sizes (200x150 and 160x200): partners are resized, and there is enough work to kill half-way.
    data = big_data(tmp_path, 240, shapes=((200, 150), (160, 200)))
    args = ["--quality", "90", "--prob", "0.9"]
    ref = tmp_path / "ref"
    assert subprocess.run(mixcli_command(op, data, ref, *args, "-q"), timeout=300).returncode == 0
    out = tmp_path / "out"
    proc = start(data, out, "--prob", "0.9", op=op)
    assert wait_for_journal(out, proc), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    done = [p for p in (out / "images").iterdir() if not p.name.startswith(".")]
    assert 0 < len(done) < 240
    masks = [p for p in (out / "masks").iterdir() if not p.name.startswith(".")] if op == "fmix" else []
    for p in done + masks:  # nothing truncated under a final name
        assert cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None, p
    resumed = subprocess.run(mixcli_command(op, data, out, *args, "--resume", "--workers", "2"), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert out_files(out) == out_files(ref)
    df = read_out(out)
    assert len(df) == 240 and (df.op == op).sum() > 150


@pytest.mark.parametrize("op", OPS)
def test_skip_bad_drops_a_corrupt_image_and_the_rest_is_right(data20, tmp_path, op):
    bad = "img005.png"
    (data20 / "train" / bad).write_text("I am not a PNG, only text\n")
    assert_one_line_error(invoke(op, data20, tmp_path / "stop", "--format", "png"), 1, "cannot decode image", bad)
    out = tmp_path / "out"
    summary = run(Job.make(op, data20, out, seed=4, fmt="png", skip_bad=True), progress=False)
    assert summary["skipped"] == 1 and summary["skipped_images"] == [bad]
    skipped = pd.read_csv(out / "skipped.csv", keep_default_na=False)
    assert list(skipped.image) == [bad] and skipped.error[0]
    df = verify(data20, out, op, seed=4, bad={bad})
    assert all(bad not in r.sources.split(";") for r in df.itertuples())
    assert (df.op != "none").sum() >= 15


@pytest.mark.parametrize("first, second", [("mosaic", "fmix"), ("cutout", "resizemix"), ("fmix", "mix")])
def test_an_output_is_a_dataset_for_the_next_operation(data20, tmp_path, first, second):
    one = run_op(first, data20, tmp_path / "one", seed=1, fmt="png")
    two = run_op(second, tmp_path / "one", tmp_path / "two", seed=2, fmt="png")
    cols = ["p_0", "p_1", "p_2"]
    soft = one.set_index("image")[cols]
    assert (two.op != "none").all()
    for r in two.itertuples():
        weights = [float(x) for x in r.weights.split(";")]
        want = sum(wk * soft.loc[s].to_numpy(float) for wk, s in zip(weights, r.sources.split(";")))
        np.testing.assert_allclose(two.loc[r.Index, cols].to_numpy(float), want, rtol=0, atol=1e-12)
        assert (tmp_path / "two" / r.image).is_file()


USAGE = [
    ("mix", ["--mixup-alpha", "0", "--cutmix-alpha", "0"], "--mixup-alpha"),
    ("mix", ["--mixup-alpha", "-0.5"], "--mixup-alpha"),
    ("mix", ["--cutmix-alpha", "nan"], "--cutmix-alpha"),
    ("mix", ["--switch-prob", "1.5"], "--switch-prob"),
    ("mix", ["--minmax", "0.6", "0.3"], "--minmax"),
    ("mix", ["--minmax", "0.2", "0.5", "--cutmix-alpha", "0"], "--minmax"),
    ("resizemix", ["--scale-min", "0.9", "--scale-max", "0.1"], "--scale-min"),
    ("resizemix", ["--scale-max", "1.5"], "--scale-max"),
    ("resizemix", ["--scale-min", "-0.1"], "--scale-min"),
    ("mosaic", ["--offset", "0.8", "0.2"], "--offset"),
    ("mosaic", ["--offset", "-0.1", "0.5"], "--offset"),
    ("mosaic", ["--offset", "0.5", "1.1"], "--offset"),
    ("mosaic", ["--offset", "nan", "0.5"], "--offset"),
    ("mosaic", ["--prob", "1.5"], "--prob"),
    ("fmix", ["--alpha", "0"], "--alpha"),
    ("fmix", ["--alpha", "inf"], "--alpha"),
    ("fmix", ["--decay-power", "0"], "--decay-power"),
    ("fmix", ["--decay-power", "-2"], "--decay-power"),
    ("fmix", ["--decay-power", "nan"], "--decay-power"),
    ("cutout", ["--holes", "0"], "--holes"),
    ("cutout", ["--fill", "300"], "--fill"),
    ("cutout", ["--fill", "-1"], "--fill"),
    ("cutout", ["--hole-size", "1.5"], "--hole-size"),
    ("cutout", ["--hole-size", "nan"], "--hole-size"),
]


@pytest.mark.parametrize("op, args, word", USAGE, ids=[f"{op}{' '.join(a)}" for op, a, _ in USAGE])
def test_bad_options_are_usage_errors(small_data, tmp_path, op, args, word):
    assert_one_line_error(invoke(op, small_data, tmp_path / "o", *args), 2, word)
    assert not (tmp_path / "o").exists()


OWN_OPTIONS = {
    "mixup": ["--alpha"],
    "cutmix": ["--alpha", "--minmax", "--correct-lam", "--no-correct-lam"],
    "mix": ["--switch-prob", "--mixup-alpha", "--cutmix-alpha", "--minmax", "--correct-lam", "--no-correct-lam"],
    "resizemix": ["--scale-min", "--scale-max"],
    "mosaic": ["--offset"],
    "fmix": ["--alpha", "--decay-power"],
    "cutout": ["--holes", "--hole-size", "--fill"],
}
SHARED_OPTIONS = ["--prob", "--seed", "--workers", "--format", "--size", "--resume", "--skip-bad", "--label-smoothing", "--quality"]


def test_every_operation_is_in_help_with_its_options():
    result = invoke_ok("--help")
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert set(OPS) <= listed, result.stdout
    assert set(OWN_OPTIONS) == set(OPS)
    for op, own in OWN_OPTIONS.items():
        help_text = invoke_ok(op, "--help")
        for option in own + SHARED_OPTIONS:
            assert option in help_text.stdout, (op, option)
