"""--dry-run: everything checked, what would be written printed, nothing written."""

import json

import pytest

from conftest import SAMPLE_DATA, assert_one_line_error, invoke, invoke_ok, out_files, write_dataset


@pytest.mark.parametrize("op, extra", [("mix", ["--copies", "2", "--keep-originals"]), ("fmix", ["--prob", "0.5"]), ("mosaic", [])])
def test_dry_run_shows_the_real_runs_counts_and_first_rows_and_writes_nothing(op, extra, small_data, tmp_path):
    before = out_files(tmp_path)
    dry = invoke_ok(op, small_data, tmp_path / "o", "--seed", 3, "--format", "png", *extra, "--dry-run")
    assert out_files(tmp_path) == before and not (tmp_path / "o").exists()
    assert "dry run: would write" in dry.stderr and "nothing written" in dry.stderr
    as_json = json.loads(invoke(op, small_data, tmp_path / "o", "--seed", 3, "--format", "png", *extra, "-n", "--json").stdout)
    assert not (tmp_path / "o").exists()
    real = invoke_ok(op, small_data, tmp_path / "o", "--seed", 3, "--format", "png", *extra, "--json")
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
    assert_one_line_error(invoke("mixup", small_data, out, "--dry-run"), 1, "exists and is not empty", "--overwrite")
    invoke_ok("mixup", small_data, out, "--dry-run", "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert_one_line_error(invoke("mixup", small_data, tmp_path / "p", "--dry-run", "--alpha", "-1"), 2, "--alpha must be a finite number > 0")
    data = write_dataset(tmp_path / "d", [(5, 5)] * 3, [0, 1, 0])
    assert_one_line_error(invoke("mosaic", data, tmp_path / "q", "--dry-run"), 1, "mosaic needs at least 4 rows")
    assert not (tmp_path / "p").exists() and not (tmp_path / "q").exists()


def test_dry_run_of_a_resume_refuses_other_options_as_the_resume_would(small_data, tmp_path):
    out = tmp_path / "o"
    invoke_ok("mixup", small_data, out, "--seed", 1, "-q")
    before = out_files(out)
    assert_one_line_error(invoke("mixup", small_data, out, "--resume", "--seed", 2, "--dry-run"), 1, "--seed 1 then 2")
    invoke_ok("mixup", small_data, out, "--resume", "--seed", 1, "--dry-run")
    assert out_files(out) == before


def test_dry_run_shows_the_first_rows_that_will_be_written_when_rows_are_skipped(small_data, tmp_path):
    (small_data / "train" / "img001.png").write_bytes(b"not an image")
    dry = invoke_ok("mixup", small_data, tmp_path / "o", "--skip-bad", "-n")
    invoke_ok("mixup", small_data, tmp_path / "o", "--skip-bad", "-q")
    assert dry.stdout.splitlines() == (tmp_path / "o" / "train.csv").read_text().splitlines()[:6]


def test_dry_run_of_a_group_with_no_shard_of_the_run_writes_nothing(tmp_path):
    """A dataset of one shard (the default --shard-size) has nothing for group 2 of 3: the dry run
    says so (it stopped with an internal error before f2c0246)."""
    out = tmp_path / "o"
    dry = invoke_ok("mixup", SAMPLE_DATA, out, "--dry-run", "--shards", "2/3")
    assert dry.stderr.startswith("mixcli: dry run: would write 0 images ") and len(dry.stderr.splitlines()) == 1, dry.stderr
    assert "of shard group 2 of 3 (0 shard(s)) and no train.csv" in dry.stderr and "nothing written" in dry.stderr
    assert dry.stdout == "image,label,p_astronaut,p_cat,p_coffee,p_rocket,op,source_a,source_b,lam,x1,y1,x2,y2,sources,weights,boxes,mask\n"
    summary = json.loads(invoke_ok("mixup", SAMPLE_DATA, out, "-n", "--shards", "2/3", "--json").stdout)
    assert summary["group"] == [2, 3] and summary["shards"] == [] and summary["rows"] == 0 and summary["csv"] is None
    assert not out.exists()
