"""Shards: shard groups run in any order, any number of times, merged, equal one local run byte for byte."""

import json
import random
import signal
import subprocess

import pytest

from conftest import visible_files as visible
from conftest import assert_one_line_error, big_data, invoke, invoke_ok, mixcli_command, start, wait_for_journal, write_dataset
from mixcli.runner import shards
from mixcli.errors import UsageError


@pytest.fixture(scope="module")
def data100(tmp_path_factory):
    root = tmp_path_factory.mktemp("d")
    shapes = [(12 + k % 5, 10 + k % 7) for k in range(100)]
    return write_dataset(root, shapes, [k % 4 for k in range(100)])


CASES = {
    "mixup": ["mixup", "--alpha", "0.4", "--prob", "0.7"],
    "mosaic copies": ["mosaic", "--copies", "2", "--keep-originals", "--format", "png"],
    "fmix": ["fmix"],
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("n", [1, 3, 7])
def test_shard_groups_in_any_order_merge_to_the_local_run(data100, tmp_path, case, n):
    args = CASES[case]
    local = tmp_path / "local"
    invoke_ok(args[0], data100, local, *args[1:], "--shard-size", "16", "--seed", "5", "-q")
    out = tmp_path / "sharded"
    order = list(range(n)) + [0, n - 1]  # two groups run twice
    random.Random(n).shuffle(order)
    for i in order:
        r = invoke_ok(args[0], data100, out, *args[1:], "--shard-size", "16", "--seed", "5", "--shards", f"{i}/{n}", "--json", "-q")
        summary = json.loads(r.stdout)
        assert summary["group"] == [i, n] and summary["shards"] == [s for s in range(7) if s % n == i]
        assert not (out / "train.csv").exists()
    assert json.loads(r.stdout)["missing"] == []
    merged = invoke_ok("merge", out, "--json", "-q")
    assert json.loads(merged.stdout)["shards"] == 7
    assert visible(out) == visible(local)


def test_the_output_does_not_depend_on_the_shard_size(data100, tmp_path):
    outs = []
    for size in (16, 48, 10000):
        out = tmp_path / f"s{size}"
        invoke_ok("cutmix", data100, out, "--shard-size", size, "--seed", "2", "-q")
        outs.append(visible(out))
    assert outs[0] == outs[1] == outs[2]
    assert len(list((tmp_path / "s16" / ".mixcli" / "shards").glob("*.json"))) == 7


def test_merge_names_the_missing_shards(data100, tmp_path):
    out = tmp_path / "o"
    for i in (0, 2):
        invoke_ok("mixup", data100, out, "--shard-size", "16", "--shards", f"{i}/3", "-q")
    assert_one_line_error(invoke("merge", out), 1, "2 of 7 shards are not done (1, 4)")
    assert not (out / "train.csv").exists()
    invoke_ok("mixup", data100, out, "--shard-size", "16", "--shards", "1/3", "-q")
    invoke_ok("merge", out, "-q")
    assert (out / "train.csv").is_file()


@pytest.mark.parametrize("env, expected", [
    ({}, None),
    ({"SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_COUNT": "4"}, (2, 4)),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_PROCID": "0", "SLURM_NTASKS": "2"}, (3, 4)),
    ({"SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_STEP_ID": "0"}, (1, 2)),  # srun's tasks
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}, None),  # a batch script without srun: no step, the whole run
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "1", "SLURM_STEP_ID": "0"}, None),  # one task: the whole run
    ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "5"}, (3, 5)),
    ({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9", "SLURM_ARRAY_TASK_STEP": "2"}, (2, 5)),
    ({"JOB_COMPLETION_INDEX": "5"}, None),  # an index without --num-shards says nothing
])
def test_the_environment_picks_the_group(env, expected):
    assert shards.group(None, None, env) == expected


def test_an_array_of_listed_indices_asks_for_the_group():
    env = {"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9", "SLURM_ARRAY_TASK_COUNT": "3"}  # --array=1,5,9
    with pytest.raises(UsageError, match="give --shards I/N"):
        shards.group(None, None, env)
    assert shards.group(None, 0, env) is None  # --shards all


def test_explicit_options_win_over_the_environment():
    env = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "JOB_COMPLETION_INDEX": "2"}
    assert shards.group(0, 3, env) == (0, 3)
    assert shards.group(None, 5, env) == (2, 5)  # a Kubernetes Indexed Job: --num-shards and the index
    with pytest.raises(UsageError, match="index must be in"):
        shards.group(3, 3, {})
    with pytest.raises(UsageError, match="needs --shard-index"):
        shards.group(None, 3, {})


def test_a_slurm_array_task_runs_its_group(data100, tmp_path):
    env = {"SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_COUNT": "3"}
    r = invoke_ok("mixup", data100, tmp_path / "o", "--shard-size", "16", "--json", "-q", env=env)
    s = json.loads(r.stdout)
    assert s["group"] == [1, 3] and s["shards"] == [1, 4] and s["missing"] == [0, 2, 3, 5, 6]
    assert sorted(p.name for p in (tmp_path / "o" / ".mixcli" / "shards").glob("*.json")) == ["000001.json", "000004.json"]


def test_a_group_refuses_overwrite_and_another_run(data100, tmp_path):
    out = tmp_path / "o"
    assert_one_line_error(invoke("mixup", data100, out, "--shards", "0/2", "--overwrite"), 2, "--overwrite cannot be given to a shard group")
    invoke_ok("mixup", data100, out, "--shard-size", "16", "--shards", "0/2", "-q")
    assert_one_line_error(invoke("mixup", data100, out, "--shard-size", "16", "--shards", "1/2", "--alpha", "0.3"), 1, "--alpha 1.0 then 0.3")
    assert_one_line_error(invoke("mixup", data100, out, "--shard-size", "32", "--shards", "1/2"), 1, "--shard-size 16 then 32")


def test_shards_all_runs_the_whole_run_inside_an_array(data100, tmp_path):
    env = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"}
    invoke_ok("mixup", data100, tmp_path / "o", "--shards", "all", "-q", env=env)
    assert (tmp_path / "o" / "train.csv").is_file() and len((tmp_path / "o" / "train.csv").read_text().splitlines()) == 101


def test_merge_twice_and_after_a_rerun_changes_nothing(data100, tmp_path):
    out = tmp_path / "o"
    for i in (0, 1):
        invoke_ok("mixup", data100, out, "--shard-size", "16", "--shards", f"{i}/2", "-q")
    invoke_ok("merge", out, "-q")
    before = visible(out)
    invoke_ok("mixup", data100, out, "--shard-size", "16", "--shards", "1/2", "-q")  # a group run again
    assert json.loads(invoke_ok("merge", out, "--json", "-q").stdout)["merged_before"] is True
    assert visible(out) == before


@pytest.mark.slow
def test_a_journal_with_a_chunk_twice_resumes(tmp_path):
    data = big_data(tmp_path)
    out = tmp_path / "out"
    proc = start(data, out, "--shard-size", "240")
    assert wait_for_journal(out, proc), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    journal = out / ".mixcli" / "shards" / "000000.journal"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines + lines[:1]) + "\n")  # the same chunk from a second copy of the run
    r = subprocess.run(mixcli_command("cutmix", data, out, "--quality", "90", "--shard-size", "240", "--resume", "-q"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    invoke_ok("cutmix", data, tmp_path / "ref", "-q", "--quality", "90")
    assert visible(out) == visible(tmp_path / "ref")


@pytest.mark.parametrize("bad, words", [
    ("3", "--shards must look like 3/8 (group 3 of 8) or be all, got '3'"),
    ("1/", "--shards must look like 3/8 (group 3 of 8) or be all, got '1/'"),
    ("a/2", "--shards must look like 3/8 (group 3 of 8) or be all, got 'a/2'"),
    ("2/2", "shard group 2 of 2 does not exist: the index must be in [0, 2)"),
])
def test_bad_shards_option(data100, tmp_path, bad, words):
    assert_one_line_error(invoke("mixup", data100, tmp_path / "o", "--shards", bad), 2, words)
    assert not (tmp_path / "o").exists()


def test_bad_shard_size(data100, tmp_path):
    assert_one_line_error(invoke("mixup", data100, tmp_path / "o", "--shard-size", "20"), 2, "--shard-size must be a positive multiple of 16")


def test_merge_of_nothing(tmp_path):
    assert_one_line_error(invoke("merge", tmp_path), 1, f"{tmp_path} holds no mixcli run to merge")


@pytest.mark.slow
def test_a_killed_shard_group_rerun_gives_the_same_bytes(tmp_path):
    data = big_data(tmp_path)  # 240 rows: 15 chunks, 4 shards of 64 rows
    ref = tmp_path / "ref"
    invoke_ok("cutmix", data, ref, "-q", "--quality", "90")
    out = tmp_path / "out"
    proc = start(data, out, "--shard-size", "64", "--shards", "0/2")
    assert wait_for_journal(out, proc), "the group ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / ".mixcli" / "shards" / "000002.json").exists()
    for group in ("1/2", "0/2"):  # the killed group runs again after the other one
        r = subprocess.run(mixcli_command("cutmix", data, out, "--quality", "90", "--shard-size", "64", "--shards", group, "-q"), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    invoke_ok("merge", out, "-q")
    assert visible(out) == visible(ref)


def test_a_dry_run_of_a_group_counts_its_rows(data100, tmp_path):
    r = invoke_ok("mixup", data100, tmp_path / "o", "--shard-size", "16", "--shards", "1/3", "-n", "--json", "--copies", "2")
    s = json.loads(r.stdout)
    assert s["group"] == [1, 3] and s["shards"] == [1, 4] and s["csv"] is None
    assert s["rows"] == 2 * 32 and s["mixup"] + s["none"] == 64  # shards 1 and 4: 16 input rows each, 2 copies
    assert "shard group 1 of 3" in r.stderr and not (tmp_path / "o").exists()
