"""--copies K and --keep-originals: K outputs per input row with their own draws, plus the originals."""

import signal
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import (SAMPLE_DATA, assert_one_line_error, big_data, invoke, invoke_ok, load, mixcli_command, out_files, run_op,
                      wait_for_journal, write_dataset)
from mixcli.runner import chunk as mixing


@pytest.fixture
def data20(tmp_path):
    """20 PNG images of 5 sizes (4 times each) in 3 int classes (conftest's data20 has 10 sizes)."""
    shapes = [(24, 40), (40, 24), (17, 33), (32, 32), (9, 50)] * 4
    return write_dataset(tmp_path / "d", shapes, [k % 3 for k in range(20)])


@pytest.mark.parametrize("op", ["mixup", "cutmix", "mosaic", "fmix", "cutout"])
def test_copies_and_originals_give_k_n_plus_n_rows_with_their_own_partners(op, data20, tmp_path):
    n, k = 20, 3
    df = run_op(op, data20, tmp_path / "o", copies=k, keep_originals=True, fmt="png", seed=2)
    assert len(df) == k * n + n
    assert df.image.is_unique and all((tmp_path / "o" / name).is_file() for name in df.image)
    names = sorted(p.name for p in (tmp_path / "o" / "images").iterdir())
    assert names == sorted(name.split("/")[1] for name in df.image)  # no file without a row
    inputs = pd.read_csv(data20 / "train.csv").image.tolist()
    # Copy-major: rows c*N .. c*N+N-1 are copy c of every input row in order, then the originals.
    assert df.source_a.tolist() == inputs * (k + 1)
    originals = df.iloc[k * n :]
    assert (originals.op == "none").all() and (originals.weights == "1.0").all()
    for row in originals.itertuples():  # same format: the input file's own bytes
        assert (tmp_path / "o" / row.image).read_bytes() == (data20 / "train" / row.source_a).read_bytes()
    if op != "cutout":
        partners = {i: [df.sources[c * n + i].split(";")[1:] for c in range(k)] for i in range(n)}
        for i, lists in partners.items():
            firsts = [p[0] for p in lists]
            assert len(set(firsts)) == k, (i, lists)  # each copy starts at its own partner
            assert all(inputs[i] not in p for p in lists)  # never the row itself


def test_copy_zero_is_the_run_without_copies_byte_for_byte(data20, tmp_path):
    one = run_op("cutmix", data20, tmp_path / "one", fmt="png", seed=4, prob=0.7)
    three = run_op("cutmix", data20, tmp_path / "three", fmt="png", seed=4, prob=0.7, copies=3)
    assert three.iloc[:20].drop(columns="image").equals(one.drop(columns="image"))
    for a, b in zip(one.image, three.image[:20]):
        assert (tmp_path / "one" / a).read_bytes() == (tmp_path / "three" / b).read_bytes()
    assert not three.iloc[20:40].lam.reset_index(drop=True).equals(one.lam)  # other copies draw anew


def test_copies_labels_are_the_weighted_sources(data20, tmp_path):
    df = run_op("mixup", data20, tmp_path / "o", copies=2, keep_originals=True, seed=5, label_smoothing=0.1, prob=0.6)
    label_of = dict(pd.read_csv(data20 / "train.csv").itertuples(index=False))
    for row in df.itertuples():
        y = np.full(3, 0.1 / 3)
        for source, w in zip(row.sources.split(";"), map(float, row.weights.split(";"))):
            y[label_of[source]] += 0.9 * w
        np.testing.assert_allclose([row.p_0, row.p_1, row.p_2], y, atol=1e-12)
        assert row.lam == float(row.weights.split(";")[0])


def test_each_image_is_decoded_once_whatever_the_copies(data20, tmp_path, monkeypatch):
    calls = []
    real = mixing.decode
    monkeypatch.setattr(mixing, "decode", lambda data, name, *rest: calls.append(name) or real(data, name, *rest))
    run_op("mosaic", data20, tmp_path / "o", copies=4, keep_originals=True, workers=2)
    assert len(calls) == 20 and len(set(calls)) == 20


def test_same_bytes_whatever_the_workers_with_copies(data20, tmp_path):
    for w in (1, 2, 3):
        run_op("resizemix", data20, tmp_path / f"w{w}", copies=2, keep_originals=True, seed=6, workers=w, prob=0.8)
    assert out_files(tmp_path / "w1") == out_files(tmp_path / "w2") == out_files(tmp_path / "w3")


def test_skip_bad_drops_every_output_of_a_bad_row_and_lists_it_once(data20, tmp_path):
    (data20 / "train" / "img003.png").write_bytes(b"not an image, but complete enough to be read")
    df = run_op("cutmix", data20, tmp_path / "o", copies=2, keep_originals=True, skip_bad=True, fmt="png")
    assert len(df) == 3 * 19 and "img003.png" not in ";".join(df.sources)
    skipped = pd.read_csv(tmp_path / "o" / "skipped.csv")
    assert skipped.image.tolist() == ["img003.png"]


def test_bad_copies_is_a_usage_error(data20, tmp_path):
    assert_one_line_error(invoke("mixup", data20, tmp_path / "o", "--copies", "0"), 2, "--copies must be >= 1, got 0")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_sigkill_then_resume_with_copies_gives_the_same_bytes(tmp_path):
    data = big_data(tmp_path, n=160)
    args = ["--copies", "2", "--keep-originals", "--quality", "90", "-q"]
    ref = tmp_path / "ref"
    assert subprocess.run(mixcli_command("mosaic", data, ref, *args)).returncode == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(mixcli_command("mosaic", data, out, "--workers", "1", *args))
    assert wait_for_journal(out, proc, lines=2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    resumed = subprocess.run(mixcli_command("mosaic", data, out, "--resume", *args))
    assert resumed.returncode == 0
    assert out_files(out) == out_files(ref)


def test_subprocess_copies_and_originals_on_sample_data(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.run(mixcli_command("mixup", SAMPLE_DATA, out, "--copies", "2", "--keep-originals", "--json", "-q"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "train.csv")
    n = len(pd.read_csv(SAMPLE_DATA / "train.csv"))
    assert len(df) == 3 * n and df.image.is_unique
    assert (df.op[: 2 * n] == "mixup").all() and (df.op[2 * n :] == "none").all()
    first = df.iloc[0]
    assert load(out / first.image).shape == load(SAMPLE_DATA / "train" / first.source_a).shape


# Complete as far as read_bytes can tell (start, a scan, an end marker), but no frame to decode.
HOLLOW_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x00\x00\xff\xd9"


def test_skip_bad_drops_a_row_whole_even_where_its_original_could_be_copied(tmp_path):
    data = write_dataset(tmp_path / "d", [(12, 16)] * 6, [0, 1] * 3, ext=".jpg")
    (data / "train" / "img002.jpg").write_bytes(HOLLOW_JPEG)
    for op, extra in (("cutout", ["--keep-originals"]), ("mixup", ["--copies", "3", "--prob", "0.5", "--keep-originals"])):
        out = tmp_path / op
        invoke_ok(op, data, out, "--skip-bad", "-q", *extra)
        table = pd.read_csv(out / "train.csv", keep_default_na=False)
        assert "img002.jpg" not in ";".join(table.sources)
        assert pd.read_csv(out / "skipped.csv").image.tolist() == ["img002.jpg"]
        assert sorted(p.name for p in (out / "images").iterdir()) == sorted(n.split("/")[1] for n in table.image)


@pytest.mark.parametrize("op", ["mixup", "mosaic"])
def test_each_good_image_is_decoded_once_when_bad_ones_are_skipped(op, data20, tmp_path, monkeypatch):
    # Bad rows early in a cycle push the last rows' wrapped partners further: they must still be in memory.
    for name in ("img000.png", "img001.png", "img005.png", "img016.png", "img017.png"):
        (data20 / "train" / name).write_bytes(b"not an image")
    calls = []
    real = mixing.decode
    monkeypatch.setattr(mixing, "decode", lambda data, name, *rest: calls.append(name.rsplit("/", 1)[-1]) or real(data, name, *rest))
    for seed in range(4):
        calls.clear()
        run_op(op, data20, tmp_path / f"{op}{seed}", skip_bad=True, seed=seed, copies=2)
        good = [c for c in calls if c not in ("img000.png", "img001.png", "img005.png", "img016.png", "img017.png")]
        assert len(good) == len(set(good)) == 15, (seed, sorted(good))
