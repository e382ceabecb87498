"""The command line: options, exit codes, messages, and one real subprocess on sample_data/."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SAMPLE_DATA, out_files, write_dataset
from mixcli import __version__
from mixcli.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, code, *words):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mixcli: error:")
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.output


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"mixcli {__version__}"
    result = invoke("--help")
    assert result.exit_code == 0 and "mixcli mixup data/ out/ --alpha 0.2" in result.stdout
    for option in ("--alpha", "--prob", "--minmax", "--no-correct-lam", "--label-smoothing", "--size", "--format", "--quality", "--seed", "--workers", "--overwrite", "--json", "--csv", "--image-dir"):
        assert option in invoke("cutmix", "--help").stdout


def test_mixup_writes_images_csv_and_json_summary(small_data, tmp_path):
    out = tmp_path / "out"
    result = invoke("mixup", small_data, out, "--alpha", "0.2", "--json", "--format", "png")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 12 and summary["mixup"] == 12 and summary["none"] == 0
    assert "mixcli: wrote 12 images" in result.stderr
    df = pd.read_csv(out / "train.csv")
    assert len(df) == 12 and all((out / name).is_file() for name in df.image)
    assert all(name.endswith(".png") for name in df.image)


def test_quiet_prints_nothing(small_data, tmp_path):
    result = invoke("cutmix", small_data, tmp_path / "o", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_non_empty_out_is_refused_unless_overwrite(small_data, tmp_path):
    out = tmp_path / "out"
    assert invoke("mixup", small_data, out, "-q").exit_code == 0
    before = out_files(out)
    assert_one_line_error(invoke("mixup", small_data, out, "--seed", "1"), 1, "not empty", "--overwrite")
    assert out_files(out) == before
    result = invoke("mixup", small_data, out, "--seed", "1", "--overwrite", "-q")
    assert result.exit_code == 0, result.output
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


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mixcli", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_real_run_on_sample_data(tmp_path):
    for op, args in (("mixup", ["--alpha", "0.2"]), ("cutmix", ["--prob", "0.2"])):
        out = tmp_path / op
        proc = _cli(op, SAMPLE_DATA, out, *args)
        assert proc.returncode == 0, proc.stderr
        df = pd.read_csv(out / "train.csv", keep_default_na=False)
        src = pd.read_csv(SAMPLE_DATA / "train.csv")
        assert len(df) == len(src) and list(df.source_a) == list(src.image)
        assert sorted(c for c in df.columns if c.startswith("p_")) == ["p_astronaut", "p_cat", "p_coffee", "p_rocket"]
        assert set(df.op) <= {op, "none"} and (df.op == op).any()
        assert all((out / name).is_file() and name.endswith(".jpg") for name in df.image)
        assert "mixcli: wrote 40 images" in proc.stderr
