"""The old guarantees for the scale-out options: same bytes on 1, 2 and 3 workers, --skip-bad,
and SIGKILL + --resume, for --label-format sparse, --out-format webdataset and small shards."""

import io
import signal
import subprocess

import pandas as pd
import pytest

from conftest import big_data, invoke_ok, mixcli_command, start, wait_for_journal, write_dataset
from conftest import visible_files as visible

OPTIONS = {
    "sparse": ["--label-format", "sparse"],
    "webdataset": ["--out-format", "webdataset", "--samples-per-tar", "9"],
    "shards of 16": ["--shard-size", "16"],
}


@pytest.fixture(scope="module")
def data_with_a_bad_image(tmp_path_factory):
    root = tmp_path_factory.mktemp("d")
    data = write_dataset(root, [(12 + k % 3, 10 + k % 4) for k in range(50)], [k % 3 for k in range(50)])
    (data / "train" / "img017.png").write_bytes(b"not a png")
    return data


@pytest.mark.parametrize("op", ["mixup", "mosaic"])
@pytest.mark.parametrize("case", list(OPTIONS))
def test_same_bytes_on_any_workers_with_skip_bad(data_with_a_bad_image, tmp_path, case, op):
    outs = []
    for w in (1, 2, 3):
        invoke_ok(op, data_with_a_bad_image, tmp_path / f"w{w}", *OPTIONS[case], "--skip-bad", "--seed", "4", "--workers", w, "-q")
        outs.append(visible(tmp_path / f"w{w}"))
    assert outs[0] == outs[1] == outs[2]
    assert outs[0]["skipped.csv"].decode().splitlines()[1].startswith("img017.png,")
    table = pd.read_csv(io.BytesIO(outs[0]["train.csv"]), keep_default_na=False)
    assert len(table) == 49 and "img017.png" not in set(table.source_a)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["sparse", "webdataset"])
def test_sigkill_then_resume_gives_the_same_bytes(tmp_path, case):
    data = big_data(tmp_path)
    extra = [*OPTIONS[case], "--shard-size", "64"]
    invoke_ok("cutmix", data, tmp_path / "ref", "-q", "--quality", "90", *extra)
    out = tmp_path / "out"
    proc = start(data, out, *extra)
    assert wait_for_journal(out, proc), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    r = subprocess.run(mixcli_command("cutmix", data, out, "--quality", "90", *extra, "--resume", "-q"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert visible(out) == visible(tmp_path / "ref")
