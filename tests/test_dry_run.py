"""--dry-run: everything checked, what would be written printed, nothing written."""

import json

import pytest
from typer.testing import CliRunner

from conftest import out_files, write_dataset
from mixcli.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("op, extra", [("mix", ["--copies", "2", "--keep-originals"]), ("fmix", ["--prob", "0.5"]), ("mosaic", [])])
def test_dry_run_shows_the_real_runs_counts_and_first_rows_and_writes_nothing(op, extra, small_data, tmp_path):
    before = out_files(tmp_path)
    dry = invoke(op, small_data, tmp_path / "o", "--seed", 3, "--format", "png", *extra, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert out_files(tmp_path) == before and not (tmp_path / "o").exists()
    assert "dry run: would write" in dry.stderr and "nothing written" in dry.stderr
    as_json = json.loads(invoke(op, small_data, tmp_path / "o", "--seed", 3, "--format", "png", *extra, "-n", "--json").stdout)
    assert not (tmp_path / "o").exists()
    real = invoke(op, small_data, tmp_path / "o", "--seed", 3, "--format", "png", *extra, "--json")
    assert real.exit_code == 0, real.output
    summary = json.loads(real.stdout)
    for key in ("rows", "mixup", "cutmix", "mosaic", "fmix", "none"):
        assert as_json[key] == summary[key], key
    written = (tmp_path / "o" / "train.csv").read_text().splitlines()
    assert dry.stdout.splitlines() == written[:6]  # the header and the first 5 rows, exactly
    assert as_json["first_rows"].splitlines() == written[:6]


def test_dry_run_makes_the_checks_of_a_run(small_data, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    result = invoke("mixup", small_data, out, "--dry-run")
    assert result.exit_code == 1 and "not empty" in result.stderr
    assert invoke("mixup", small_data, out, "--dry-run", "--overwrite").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert invoke("mixup", small_data, tmp_path / "p", "--dry-run", "--alpha", "-1").exit_code == 2
    data = write_dataset(tmp_path / "d", [(5, 5)] * 3, [0, 1, 0])
    assert invoke("mosaic", data, tmp_path / "q", "--dry-run").exit_code == 1


def test_dry_run_of_a_resume_refuses_other_options_as_the_resume_would(small_data, tmp_path):
    out = tmp_path / "o"
    assert invoke("mixup", small_data, out, "--seed", 1, "-q").exit_code == 0
    before = out_files(out)
    result = invoke("mixup", small_data, out, "--resume", "--seed", 2, "--dry-run")
    assert result.exit_code == 1 and "--seed 1 then 2" in result.stderr
    assert invoke("mixup", small_data, out, "--resume", "--seed", 1, "--dry-run").exit_code == 0
    assert out_files(out) == before


def test_dry_run_shows_the_first_rows_that_will_be_written_when_rows_are_skipped(small_data, tmp_path):
    (small_data / "train" / "img001.png").write_bytes(b"not an image")
    dry = invoke("mixup", small_data, tmp_path / "o", "--skip-bad", "-n")
    assert dry.exit_code == 0, dry.output
    assert invoke("mixup", small_data, tmp_path / "o", "--skip-bad", "-q").exit_code == 0
    assert dry.stdout.splitlines() == (tmp_path / "o" / "train.csv").read_text().splitlines()[:6]
