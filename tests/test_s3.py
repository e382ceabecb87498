"""DATA and OUT in S3: runs against a real S3 endpoint (moto's server, started here on 127.0.0.1
and ended by the module's fixture), through s3fs as a user's run goes, compared byte for byte
with the same run between local folders."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import invoke, write_dataset
from conftest import visible_files as visible

pytest.importorskip("s3fs", reason="the S3 tests need s3fs and moto (pip install -e '.[test]')")
pytest.importorskip("moto.server", reason="the S3 tests need moto's server (pip install -e '.[test]')")

BUCKET = "mixcli-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 with one bucket; the environment points s3fs at it (and away
    from any real AWS configuration). Yields the environment; the server is stopped at the end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=f, stderr=subprocess.STDOUT)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    try:
        end = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    pytest.fail(f"moto's server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            mp.delenv("AWS_PROFILE", raising=False)
            _fresh_filesystems()
            _fs().mkdir(BUCKET)
            yield env
        _fresh_filesystems()
    finally:
        proc.terminate()
        proc.wait(10)


def _fresh_filesystems() -> None:
    """Forget s3fs instances made under another environment (they keep their endpoint)."""
    import s3fs

    from mixcli.store import fs

    fs._filesystems.clear()
    s3fs.S3FileSystem.clear_instance_cache()


def _fs():
    from mixcli.store.fs import filesystem

    return filesystem("s3")


def _upload(local: Path, prefix: str) -> str:
    """Copy a local folder to s3://BUCKET/prefix; return that URL."""
    fs = _fs()
    for p in sorted(local.rglob("*")):
        if p.is_file():
            fs.pipe_file(f"{BUCKET}/{prefix}/{p.relative_to(local).as_posix()}", p.read_bytes())
    return f"s3://{BUCKET}/{prefix}"


def _objects(url: str) -> dict[str, bytes]:
    """Every object under the URL, by key relative to it."""
    fs = _fs()
    key = url.removeprefix("s3://")
    return {name[len(key) + 1 :]: fs.cat_file(name) for name in sorted(fs.find(key))}


def _visible(url: str) -> dict[str, bytes]:
    return {k: v for k, v in _objects(url).items() if not k.startswith(".mixcli")}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """30 images (PNG, mixed sizes, 3 classes) locally, and the same in S3."""
    local = write_dataset(tmp_path_factory.mktemp("local") / "data", [(20 + k % 5, 18 + k % 7) for k in range(30)], [k % 3 for k in range(30)])
    return local


CASES = {
    "cutmix": ["cutmix", "--prob", "0.7"],
    "mixup sparse, 2 copies": ["mixup", "--label-format", "sparse", "--copies", "2"],
    "fmix masks, class folders out": ["fmix", "--out-layout", "folders"],
    "webdataset": ["mosaic", "--out-format", "webdataset", "--samples-per-tar", "7"],
    "small shards, png": ["resizemix", "--shard-size", "16", "--format", "png"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_s3_run_equals_a_local_run(s3, data, tmp_path, case):
    op, *args = CASES[case]
    prefix = f"round/{case.replace(' ', '_').replace(',', '')}"
    src = _upload(data, f"{prefix}/data")
    r = invoke(op, data, tmp_path / "ref", *args, "--seed", "3", "-q")
    assert r.exit_code == 0, r.output
    r = invoke(op, src, f"s3://{BUCKET}/{prefix}/out", *args, "--seed", "3", "-q", "--json")
    assert r.exit_code == 0, r.output
    assert f'"out": "s3://{BUCKET}/{prefix}/out"' in r.stdout
    got = _objects(f"s3://{BUCKET}/{prefix}/out")
    assert {k: v for k, v in got.items() if not k.startswith(".mixcli")} == visible(tmp_path / "ref")
    # What stays of the run's record: run.json and each shard's stats; no journal, no part, no staged image.
    hidden = sorted(k for k in got if k.startswith(".mixcli"))
    assert hidden[0] == ".mixcli/run.json" and all(k.startswith(".mixcli/shards/") and k.endswith(".json") for k in hidden[1:])
    assert len(hidden) - 1 == len(list((tmp_path / "ref" / ".mixcli" / "shards").glob("*.json")))


def test_local_data_to_s3_and_s3_data_to_local(s3, data, tmp_path):
    src = _upload(data, "mixed/data")
    assert invoke("cutmix", data, tmp_path / "ref", "-q").exit_code == 0
    r = invoke("cutmix", data, f"s3://{BUCKET}/mixed/out", "-q")
    assert r.exit_code == 0, r.output
    assert _visible(f"s3://{BUCKET}/mixed/out") == visible(tmp_path / "ref")
    r = invoke("cutmix", src, tmp_path / "local_out", "-q")
    assert r.exit_code == 0, r.output
    assert visible(tmp_path / "local_out") == visible(tmp_path / "ref")


def test_an_s3_output_chains_as_input(s3, data, tmp_path):
    src = _upload(data, "chain/data")
    assert invoke("mixup", data, tmp_path / "a", "--label-format", "sparse", "-q").exit_code == 0
    assert invoke("cutmix", tmp_path / "a", tmp_path / "b", "-q").exit_code == 0
    assert invoke("mixup", src, f"s3://{BUCKET}/chain/a", "--label-format", "sparse", "-q").exit_code == 0
    r = invoke("cutmix", f"s3://{BUCKET}/chain/a", f"s3://{BUCKET}/chain/b", "-q")
    assert r.exit_code == 0, r.output
    assert _visible(f"s3://{BUCKET}/chain/b") == visible(tmp_path / "b")


def test_shard_groups_into_s3_then_merge_equal_one_local_run(s3, data, tmp_path):
    src = _upload(data, "groups/data")
    args = ["--shard-size", "16", "--seed", "5", "-q"]
    assert invoke("mixup", data, tmp_path / "ref", *args).exit_code == 0
    out = f"s3://{BUCKET}/groups/out"
    order = [2, 0, 1, 0]  # shuffled, group 0 twice
    random.Random(0).shuffle(order)
    for i in order:
        r = invoke("mixup", src, out, *args, "--shards", f"{i}/3")
        assert r.exit_code == 0, r.output
        assert "train.csv" not in _objects(out)
    r = invoke("merge", out, "--json")
    assert r.exit_code == 0, r.output
    assert _visible(out) == visible(tmp_path / "ref")


def test_merge_names_a_missing_shard_in_s3(s3, data):
    src = _upload(data, "missing/data")
    out = f"s3://{BUCKET}/missing/out"
    assert invoke("mixup", src, out, "--shard-size", "16", "--shards", "0/2", "-q").exit_code == 0
    r = invoke("merge", out)
    assert r.exit_code == 1
    assert "1 of 2 shards are not done (1)" in r.stderr


def test_a_non_empty_prefix_is_refused_then_overwritten(s3, data, tmp_path):
    src = _upload(data, "over/data")
    out = f"s3://{BUCKET}/over/out"
    _fs().pipe_file(f"{BUCKET}/over/out/images/999999_stale.jpg", b"old")
    r = invoke("cutmix", src, out, "-q")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"mixcli: error: OUT {out} exists and is not empty: use --overwrite to write into it, or --resume"
    assert _objects(out) == {"images/999999_stale.jpg": b"old"}  # nothing written, nothing lost
    r = invoke("cutmix", src, out, "-q", "--overwrite")
    assert r.exit_code == 0, r.output
    assert invoke("cutmix", data, tmp_path / "ref", "-q").exit_code == 0
    assert _visible(out) == visible(tmp_path / "ref")  # the stale image is gone: OUT holds one run


def test_bad_places_get_one_line(s3, data):
    src = _upload(data, "bad/data")
    r = invoke("cutmix", f"s3://{BUCKET}/bad/nothing", f"s3://{BUCKET}/bad/out")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"mixcli: error: no CSV at s3://{BUCKET}/bad/nothing/train.csv (expected columns image,label, or class folders DATA/<class>/<image>; see --csv)"
    r = invoke("cutmix", src, f"s3://{BUCKET}/bad/data/out")
    assert r.exit_code == 1 and "overlaps the input folder" in r.stderr
    r = invoke("cutmix", src, "s3://no-such-bucket-here/out", "-q")
    assert r.exit_code == 1
    assert r.stderr.startswith("mixcli: error: cannot write s3://no-such-bucket-here/out/") and len(r.stderr.strip().splitlines()) == 1
    r = invoke("cutmix", src, "ftp://host/out")
    assert r.exit_code == 2 and "not ftp://" in r.stderr


def test_an_unreachable_store_gets_one_line(s3, data, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    _fresh_filesystems()
    try:
        r = invoke("cutmix", f"s3://{BUCKET}/x/data", f"s3://{BUCKET}/x/out")
    finally:
        monkeypatch.undo()
        _fresh_filesystems()
    assert r.exit_code == 1
    assert r.stderr.startswith(f"mixcli: error: cannot reach s3://{BUCKET}/x/data") and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("size", [100, 12 << 20])  # one PUT, and a multipart upload
def test_a_failed_write_makes_no_object(s3, size):
    from mixcli.store import open_file

    store, key = open_file(f"s3://{BUCKET}/atomic/{size}.bin")

    def fill(f):
        f.write(b"x" * size)
        f.flush()
        assert bool(_fs().list_multipart_uploads(BUCKET)) == (size > 100)  # the big one's first part is sent
        raise RuntimeError("the encoder failed")

    with pytest.raises(RuntimeError):
        store.write_with(key, fill)
    assert not _fs().exists(store.key(key))
    assert _fs().list_multipart_uploads(BUCKET) == []  # the parts sent are dropped too
    store.write_with(key, lambda f: f.write(b"y" * size))
    assert _fs().cat_file(store.key(key)) == b"y" * size


def test_run_json_is_written_once_by_concurrent_groups(s3):
    from mixcli.store import open_file

    store, key = open_file(f"s3://{BUCKET}/once/run.json")
    store.write(key, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        store.write(key, b"second", exclusive=True)
    assert store.read(key) == b"first"


def test_sigkill_then_resume_in_s3_gives_the_same_bytes(s3, tmp_path):
    from test_reliability import _big_data

    data = _big_data(tmp_path, n=160)
    src = _upload(data, "kill/data")
    out = f"s3://{BUCKET}/kill/out"
    args = ["--workers", "1", "--quality", "90", "--shard-size", "64"]
    assert invoke("cutmix", data, tmp_path / "ref", *args, "-q").exit_code == 0
    proc = subprocess.Popen([sys.executable, "-m", "mixcli", "cutmix", src, out, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **s3})
    end = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < end:  # killed once chunks are journalled
        if len([k for k in _fs().find(out.removeprefix("s3://")) if ".journal/" in k]) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert "train.csv" not in _objects(out)
    r = subprocess.run([sys.executable, "-m", "mixcli", "cutmix", src, out, *args, "--resume", "-q"], capture_output=True, text=True, env={**os.environ, **s3})
    assert r.returncode == 0, r.stderr
    assert _visible(out) == visible(tmp_path / "ref")


def test_a_ray_run_into_s3_equals_a_local_run(s3, data, tmp_path):
    ray = pytest.importorskip("ray")
    src = _upload(data, "ray/data")
    args = ["mosaic", "--shard-size", "16", "--seed", "2", "-q"]
    assert invoke(*args[:1], data, tmp_path / "ref", *args[1:]).exit_code == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only (ANCHORS §9)
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)  # its workers get this environment
        try:
            r = invoke(*args[:1], src, f"s3://{BUCKET}/ray/out", *args[1:], "--distributor", "ray")
        finally:
            ray.shutdown()
    assert r.exit_code == 0, r.output
    assert _visible(f"s3://{BUCKET}/ray/out") == visible(tmp_path / "ref")


def test_the_python_api_preview_and_dry_run_take_urls(s3, data, tmp_path):
    import mixcli

    src = _upload(data, "api/data")
    local = mixcli.run("cutmix", data, tmp_path / "ref", seed=4)
    remote = mixcli.run("cutmix", src, f"s3://{BUCKET}/api/out", seed=4)
    assert remote["rows"] == local["rows"] == 30 and remote["out"] == f"s3://{BUCKET}/api/out"
    assert _visible(f"s3://{BUCKET}/api/out") == visible(tmp_path / "ref")
    r = invoke("mixup", src, f"s3://{BUCKET}/api/dry", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("image,label,p_0,p_1,p_2,op,")
    assert _objects(f"s3://{BUCKET}/api/dry") == {}  # a dry run writes nothing
    for where, source in (("local", data), ("s3", src)):
        r = invoke("preview", source, "--op", "mosaic", "-o", tmp_path / f"{where}.png")
        assert r.exit_code == 0, r.output
    assert (tmp_path / "s3.png").read_bytes() == (tmp_path / "local.png").read_bytes()


def test_a_file_url_is_the_local_path(data, tmp_path):
    from mixcli.store import open_store
    from mixcli.store.local import LocalStore

    assert open_store(f"file://{tmp_path}/x") == LocalStore(tmp_path / "x")
    assert invoke("cutmix", f"file://{data}", f"file://{tmp_path}/out", "-q").exit_code == 0
    assert invoke("cutmix", data, tmp_path / "ref", "-q").exit_code == 0
    assert visible(tmp_path / "out") == visible(tmp_path / "ref")


def test_class_folders_in_s3(s3, data, tmp_path):
    import shutil

    folders = tmp_path / "folders"
    for k, p in enumerate(sorted((data / "train").iterdir())):
        (folders / f"class_{k % 3}").mkdir(parents=True, exist_ok=True)
        shutil.copy(p, folders / f"class_{k % 3}" / p.name)
    src = _upload(folders, "folders/data")
    assert invoke("cutmix", folders, tmp_path / "ref", "-q").exit_code == 0
    r = invoke("cutmix", src, f"s3://{BUCKET}/folders/out", "-q")
    assert r.exit_code == 0, r.output
    assert _visible(f"s3://{BUCKET}/folders/out") == visible(tmp_path / "ref")


def test_keys_are_literal_not_patterns(s3, data, tmp_path):
    src = _upload(data, "glob/data")
    _fs().pipe_file(f"{BUCKET}/glob/exp1/images/000000_img000.jpg", b"another run's")  # what exp[1] would match as a pattern
    out = f"s3://{BUCKET}/glob/exp[1]"
    assert invoke("cutmix", src, out, "-q").exit_code == 0
    r = invoke("cutmix", src, out, "-q", "--overwrite", "--seed", "1")  # deletes what the first run wrote
    assert r.exit_code == 0, r.output
    assert invoke("cutmix", data, tmp_path / "ref", "-q", "--seed", "1").exit_code == 0
    assert _visible(out) == visible(tmp_path / "ref")
    assert _objects(f"s3://{BUCKET}/glob/exp1") == {"images/000000_img000.jpg": b"another run's"}


def test_a_file_gone_while_writing_is_a_store_error(s3):
    from mixcli.store import StoreError, open_file

    store, key = open_file(f"s3://{BUCKET}/gone/train.csv")

    def fill(f):
        f.write(b"image,label\n")
        raise FileNotFoundError(2, "No such file", "a part merged meanwhile")  # what a concurrent merge's cleanup does to a part

    with pytest.raises(StoreError, match=f"^cannot write s3://{BUCKET}/gone/train.csv: "):
        store.write_with(key, fill)
    assert not _fs().exists(store.key(key))


def test_without_s3fs_the_extra_is_named(data, tmp_path):
    code = "import sys; sys.modules['s3fs'] = None; from mixcli.cli import main; main()"
    r = subprocess.run([sys.executable, "-c", code, "cutmix", "s3://bucket/data", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == "mixcli: error: s3:// URLs need s3fs (pip install 'mixcli[s3]')\n"
    assert not (tmp_path / "out").exists()


def test_skip_bad_in_s3_on_1_and_2_workers(s3, data, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(data, bad)
    (bad / "train" / "img007.png").write_bytes(b"not a png")
    src = _upload(bad, "skip/data")
    assert invoke("mixup", bad, tmp_path / "ref", "--skip-bad", "-q").exit_code == 0
    ref = visible(tmp_path / "ref")
    ref["skipped.csv"] = ref["skipped.csv"].replace(str(bad).encode(), src.encode())  # its error names where the file was read
    for w in (1, 2):
        r = invoke("mixup", src, f"s3://{BUCKET}/skip/w{w}", "--skip-bad", "--workers", w, "-q")
        assert r.exit_code == 0, r.output
        assert _visible(f"s3://{BUCKET}/skip/w{w}") == ref
    assert visible(tmp_path / "ref")["skipped.csv"].decode().splitlines()[1].startswith("img007.png,")
    r = invoke("mixup", src, f"s3://{BUCKET}/skip/strict")
    assert r.exit_code == 1 and "img007.png" in r.stderr and len(r.stderr.strip().splitlines()) == 1
