"""The command line: options, exit codes, messages, and one real subprocess on sample_data/."""

import json
import os
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_DATA, assert_one_line_error, invoke, invoke_ok, mixcli_command, out_files, write_dataset
from mixcli import __version__
from mixcli.pixels.codec import read_image


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"mixcli {__version__}"
    result = invoke("--help")
    assert result.exit_code == 0 and "mixcli mixup data/ out/ --alpha 0.2" in result.stdout
    for option in ("--alpha", "--prob", "--minmax", "--no-correct-lam", "--label-smoothing", "--size", "--format", "--quality", "--seed", "--workers", "--overwrite", "--json", "--csv", "--image-dir"):
        assert option in invoke("cutmix", "--help").stdout


def test_mixup_writes_images_csv_and_json_summary(small_data, tmp_path):
    out = tmp_path / "out"
    result = invoke_ok("mixup", small_data, out, "--alpha", "0.2", "--json", "--format", "png")
    summary = json.loads(result.stdout)
    assert summary["rows"] == 12 and summary["mixup"] == 12 and summary["none"] == 0
    assert "mixcli: wrote 12 images" in result.stderr
    df = pd.read_csv(out / "train.csv")
    assert len(df) == 12 and all((out / name).is_file() for name in df.image)
    assert all(name.endswith(".png") for name in df.image)


def test_quiet_prints_nothing(small_data, tmp_path):
    result = invoke_ok("cutmix", small_data, tmp_path / "o", "--quiet")
    assert result.output == ""


def test_non_empty_out_is_refused_unless_overwrite(small_data, tmp_path):
    out = tmp_path / "out"
    invoke_ok("mixup", small_data, out, "-q")
    before = out_files(out)
    assert_one_line_error(invoke("mixup", small_data, out, "--seed", "1"), 1, "not empty", "--overwrite")
    assert out_files(out) == before
    invoke_ok("mixup", small_data, out, "--seed", "1", "--overwrite", "-q")
    assert out_files(out) != before


def test_missing_csv(tmp_path):
    assert_one_line_error(invoke("mixup", tmp_path, tmp_path / "o"), 1, "no CSV", "train.csv")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("header, missing", [("image,klass", "label"), ("file,label", "image")])
def test_missing_column(small_data, tmp_path, header, missing):
    (small_data / "train.csv").write_text(f"{header}\nimg000.png,1\nimg001.png,2\n")
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o"), 1, f"no {missing} column")
    assert not (tmp_path / "o").exists()


def test_missing_image_file(small_data, tmp_path):
    (small_data / "train" / "img003.png").unlink()
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o"), 1, "img003.png", "not found")
    assert not (tmp_path / "o").exists()


def test_unreadable_image(small_data, tmp_path):
    (small_data / "train" / "img004.png").write_bytes(b"this is not an image")
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o"), 1, "img004.png", "decode")
    assert not (tmp_path / "o" / "train.csv").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--prob", "1.5"], ["--prob"]),
        (["--alpha", "0"], ["--alpha"]),
        (["--size", "64"], ["--size"]),
        (["--format", "gif"], ["--format"]),
        (["--minmax", "0.5", "0.2"], ["--minmax"]),
    ],
)
def test_bad_options_are_usage_errors(small_data, tmp_path, args, words):
    assert_one_line_error(invoke("cutmix", small_data, tmp_path / "o", *args), 2, *words)
    assert not (tmp_path / "o").exists()


def test_one_row_has_nothing_to_pair_with(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 8)], [0])
    assert_one_line_error(invoke("mixup", data, tmp_path / "o"), 1, "at least 2 rows")


def test_real_run_on_sample_data(tmp_path):
    for op, args in (("mixup", ["--alpha", "0.2"]), ("cutmix", ["--prob", "0.2"])):
        out = tmp_path / op
        proc = subprocess.run(mixcli_command(op, SAMPLE_DATA, out, *args), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        df = pd.read_csv(out / "train.csv", keep_default_na=False)
        src = pd.read_csv(SAMPLE_DATA / "train.csv")
        assert len(df) == len(src) and list(df.source_a) == list(src.image)
        assert sorted(c for c in df.columns if c.startswith("p_")) == ["p_astronaut", "p_cat", "p_coffee", "p_rocket"]
        assert set(df.op) <= {op, "none"} and (df.op == op).any()
        assert all((out / name).is_file() and name.endswith(".jpg") for name in df.image)
        assert "mixcli: wrote 40 images" in proc.stderr


# ---- labels: a user's p_ columns, --soft, classes as written ----


def _p_columns(df) -> list[str]:
    return [c for c in df.columns if c.startswith("p_")]


def test_user_p_column_is_ignored_and_named_in_the_summary(small_data, tmp_path):
    rows = "".join(f"img{k:03d}.png,{k % 3},0.0{k}\n" for k in range(12))
    (small_data / "train.csv").write_text("image,label,p_value\n" + rows)
    out = tmp_path / "o"
    result = invoke_ok("mixup", small_data, out, "--prob", "0", "--json")
    assert json.loads(result.stdout)["ignored_columns"] == ["p_value"]
    assert result.stderr.strip().endswith("; ignored column(s) p_value")
    df = pd.read_csv(out / "train.csv")
    assert _p_columns(df) == ["p_0", "p_1", "p_2"]
    np.testing.assert_array_equal(df[_p_columns(df)], np.eye(3)[[k % 3 for k in range(12)]])


def test_soft_option_reads_the_p_columns_beside_a_label_column(small_data, tmp_path):
    weights = [(0.7, 0.3) if k % 2 else (0.2, 0.8) for k in range(12)]
    (small_data / "train.csv").write_text("image,label,p_a,p_b\n" + "".join(f"img{k:03d}.png,a,{x},{y}\n" for k, (x, y) in enumerate(weights)))
    result = invoke_ok("mixup", small_data, tmp_path / "soft", "--soft", "--prob", "0", "--json")
    assert json.loads(result.stdout)["ignored_columns"] == [] and "ignored" not in result.stderr
    df = pd.read_csv(tmp_path / "soft" / "train.csv")
    np.testing.assert_array_equal(df[["p_a", "p_b"]], weights)
    assert list(df.label) == ["a" if x > y else "b" for x, y in weights]
    # Without --soft the label column counts: one class, and the p_ columns are named as ignored.
    result = invoke_ok("mixup", small_data, tmp_path / "hard", "--prob", "0", "--json")
    assert json.loads(result.stdout)["ignored_columns"] == ["p_a", "p_b"]
    df = pd.read_csv(tmp_path / "hard" / "train.csv")
    assert _p_columns(df) == ["p_a"] and (df.p_a == 1.0).all()


def test_soft_without_p_columns_is_refused(small_data, tmp_path):
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o", "--soft"), 1, "--soft", "no p_<class> columns")
    assert not (tmp_path / "o").exists()


def test_mixcli_output_chains_as_soft_labels(small_data, tmp_path):
    first, second = tmp_path / "o1", tmp_path / "o2"
    invoke_ok("mixup", small_data, first, "--format", "png", "-q")
    result = invoke_ok("cutmix", first, second, "--prob", "0", "--json")
    assert json.loads(result.stdout)["ignored_columns"] == [] and "ignored" not in result.stderr
    a, b = pd.read_csv(first / "train.csv"), pd.read_csv(second / "train.csv")
    assert list(b.source_a) == list(a.image)
    assert _p_columns(b) == ["p_0", "p_1", "p_2"]
    assert (a[_p_columns(a)].max(axis=1) < 1).any()  # really soft, and carried over as such
    np.testing.assert_array_equal(b[_p_columns(b)], a[_p_columns(a)])


def test_labels_01_and_1_are_two_classes_and_two_columns(tmp_path):
    data = write_dataset(tmp_path / "d", [(8, 8)] * 4, ["01", "1", "1", "01"])
    for src, out in ((data, tmp_path / "o1"), (tmp_path / "o1", tmp_path / "o2")):  # and again, chained
        result = invoke_ok("mixup", src, out, "--prob", "0", "--json")
        assert json.loads(result.stdout)["classes"] == 2
        df = pd.read_csv(out / "train.csv", dtype=str)
        assert _p_columns(df) == ["p_01", "p_1"]
        assert list(df.label) == ["01", "1", "1", "01"]
        assert list(df.p_01.astype(float)) == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("labels, columns", [(["10", "2"], ["p_2", "p_10"]), (["010", "2"], ["p_010", "p_2"])])
def test_class_columns_sort_numerically_only_for_canonical_integers(tmp_path, labels, columns):
    data = write_dataset(tmp_path / "d", [(8, 8)] * 2, labels)
    invoke_ok("mixup", data, tmp_path / "o", "-q")
    assert _p_columns(pd.read_csv(tmp_path / "o" / "train.csv")) == columns


# ---- PNG files: walked chunk by chunk to IEND ----


def test_png_with_bytes_after_iend_is_read_and_mixed(tmp_path):
    data = write_dataset(tmp_path / "d", [(12, 16)] * 4, [0, 1, 0, 1])
    path = data / "train" / "img001.png"
    blob = path.read_bytes()
    clean = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
    path.write_bytes(blob + b"\0appended by some tool" * 4)
    out = tmp_path / "o"
    invoke_ok("mixup", data, out, "--format", "png", "-q")

    def decoded(name):
        return clean if name == "img001.png" else read_image(data / "train" / name)

    df = pd.read_csv(out / "train.csv")
    assert (df.op == "mixup").all() and "img001.png" in set(df.source_a)
    for row in df.itertuples():
        want = row.lam * decoded(row.source_a).astype(np.float64) + (1 - row.lam) * decoded(row.source_b)
        assert np.abs(read_image(out / row.image) - want).max() <= 1.0, row.image


@pytest.mark.parametrize("cut", ["at IEND", "half way"])
def test_png_cut_before_iend_is_refused(small_data, tmp_path, cut):
    path = small_data / "train" / "img001.png"
    blob = path.read_bytes()
    assert blob.endswith(b"\0\0\0\0IEND\xaeB`\x82")
    path.write_bytes(blob[:-12] if cut == "at IEND" else blob[: len(blob) // 2])
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o"), 1, "img001.png", "truncated PNG")
    assert not (tmp_path / "o" / "train.csv").exists()


@pytest.mark.parametrize("garbage", ["huge IHDR length", "short IDAT length", "zeros after the signature"])
def test_png_with_garbage_chunk_lengths_is_refused(small_data, tmp_path, garbage):
    path = small_data / "train" / "img001.png"
    blob = bytearray(path.read_bytes())
    if garbage == "huge IHDR length":
        blob[8:12] = b"\xff\xff\xff\xf0"
    elif garbage == "short IDAT length":  # the walk lands inside the compressed data; IEND still ends the file
        at = blob.index(b"IDAT") - 4
        blob[at : at + 4] = (5).to_bytes(4, "big")
    else:
        blob = blob[:8] + bytes(1 << 20)
    path.write_bytes(bytes(blob))
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "o"), 1, "img001.png", "truncated PNG")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_default_workers_are_the_cores_the_process_may_use(small_data, tmp_path):
    r = subprocess.run(mixcli_command("mixup", small_data, tmp_path / "o", "--json", "-q"),
                       capture_output=True, text=True, preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["workers"] == 1
