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

from conftest import assert_one_line_error, big_data, invoke, invoke_ok, write_dataset
from conftest import visible_files as visible

pytest.importorskip("s3fs", reason="the S3 tests need s3fs and moto (pip install -e '.[test]')")
pytest.importorskip("moto.server", reason="the S3 tests need moto's server (pip install -e '.[test]')")
pytestmark = pytest.mark.slow  # starts moto's S3 server

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
    invoke_ok(op, data, tmp_path / "ref", *args, "--seed", "3", "-q")
    r = invoke_ok(op, src, f"s3://{BUCKET}/{prefix}/out", *args, "--seed", "3", "-q", "--json")
    assert f'"out": "s3://{BUCKET}/{prefix}/out"' in r.stdout
    got = _objects(f"s3://{BUCKET}/{prefix}/out")
    assert {k: v for k, v in got.items() if not k.startswith(".mixcli")} == visible(tmp_path / "ref")
    # What stays of the run's record: run.json and each shard's stats; no journal, no part, no staged image.
    hidden = sorted(k for k in got if k.startswith(".mixcli"))
    assert hidden[0] == ".mixcli/run.json" and all(k.startswith(".mixcli/shards/") and k.endswith(".json") for k in hidden[1:])
    assert len(hidden) - 1 == len(list((tmp_path / "ref" / ".mixcli" / "shards").glob("*.json")))


def test_local_data_to_s3_and_s3_data_to_local(s3, data, tmp_path):
    src = _upload(data, "mixed/data")
    invoke_ok("cutmix", data, tmp_path / "ref", "-q")
    invoke_ok("cutmix", data, f"s3://{BUCKET}/mixed/out", "-q")
    assert _visible(f"s3://{BUCKET}/mixed/out") == visible(tmp_path / "ref")
    invoke_ok("cutmix", src, tmp_path / "local_out", "-q")
    assert visible(tmp_path / "local_out") == visible(tmp_path / "ref")


def test_an_s3_output_chains_as_input(s3, data, tmp_path):
    src = _upload(data, "chain/data")
    invoke_ok("mixup", data, tmp_path / "a", "--label-format", "sparse", "-q")
    invoke_ok("cutmix", tmp_path / "a", tmp_path / "b", "-q")
    invoke_ok("mixup", src, f"s3://{BUCKET}/chain/a", "--label-format", "sparse", "-q")
    invoke_ok("cutmix", f"s3://{BUCKET}/chain/a", f"s3://{BUCKET}/chain/b", "-q")
    assert _visible(f"s3://{BUCKET}/chain/b") == visible(tmp_path / "b")


def test_shard_groups_into_s3_then_merge_equal_one_local_run(s3, data, tmp_path):
    src = _upload(data, "groups/data")
    args = ["--shard-size", "16", "--seed", "5", "-q"]
    invoke_ok("mixup", data, tmp_path / "ref", *args)
    out = f"s3://{BUCKET}/groups/out"
    order = [2, 0, 1, 0]  # shuffled, group 0 twice
    random.Random(0).shuffle(order)
    for i in order:
        invoke_ok("mixup", src, out, *args, "--shards", f"{i}/3")
        assert "train.csv" not in _objects(out)
    invoke_ok("merge", out, "--json")
    assert _visible(out) == visible(tmp_path / "ref")


def test_merge_names_a_missing_shard_in_s3(s3, data):
    src = _upload(data, "missing/data")
    out = f"s3://{BUCKET}/missing/out"
    invoke_ok("mixup", src, out, "--shard-size", "16", "--shards", "0/2", "-q")
    assert_one_line_error(invoke("merge", out), 1, "1 of 2 shards are not done (1)")


def test_a_non_empty_prefix_is_refused_then_overwritten(s3, data, tmp_path):
    src = _upload(data, "over/data")
    out = f"s3://{BUCKET}/over/out"
    _fs().pipe_file(f"{BUCKET}/over/out/images/999999_stale.jpg", b"old")
    r = invoke("cutmix", src, out, "-q")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"mixcli: error: OUT {out} exists and is not empty: use --overwrite to write into it, or --resume"
    assert _objects(out) == {"images/999999_stale.jpg": b"old"}  # nothing written, nothing lost
    invoke_ok("cutmix", src, out, "-q", "--overwrite")
    invoke_ok("cutmix", data, tmp_path / "ref", "-q")
    assert _visible(out) == visible(tmp_path / "ref")  # the stale image is gone: OUT holds one run


def test_bad_places_get_one_line(s3, data):
    src = _upload(data, "bad/data")
    r = invoke("cutmix", f"s3://{BUCKET}/bad/nothing", f"s3://{BUCKET}/bad/out")
    assert r.exit_code == 1
    assert r.stderr.strip() == f"mixcli: error: no CSV at s3://{BUCKET}/bad/nothing/train.csv (expected columns image,label, or class folders DATA/<class>/<image>; see --csv)"
    r = invoke("cutmix", src, f"s3://{BUCKET}/bad/data/out")
    assert_one_line_error(r, 1, f"OUT s3://{BUCKET}/bad/data/out overlaps the input folder s3://{BUCKET}/bad/data")
    r = invoke("cutmix", src, "s3://no-such-bucket-here/out", "-q")
    assert r.exit_code == 1
    assert r.stderr.startswith("mixcli: error: cannot write s3://no-such-bucket-here/out/") and len(r.stderr.strip().splitlines()) == 1
    assert_one_line_error(invoke("cutmix", src, "ftp://host/out"), 2, "ftp://host/out: mixcli reads and writes local folders and object stores", "not ftp://")


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

    with pytest.raises(RuntimeError, match="the encoder failed"):
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
    data = big_data(tmp_path, n=160)
    src = _upload(data, "kill/data")
    out = f"s3://{BUCKET}/kill/out"
    args = ["--workers", "1", "--quality", "90", "--shard-size", "64"]
    invoke_ok("cutmix", data, tmp_path / "ref", *args, "-q")
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
    invoke_ok(*args[:1], data, tmp_path / "ref", *args[1:])
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
    r = invoke_ok("mixup", src, f"s3://{BUCKET}/api/dry", "--dry-run")
    assert r.stdout.startswith("image,label,p_0,p_1,p_2,op,")
    assert _objects(f"s3://{BUCKET}/api/dry") == {}  # a dry run writes nothing
    for where, source in (("local", data), ("s3", src)):
        invoke_ok("preview", source, "--op", "mosaic", "-o", tmp_path / f"{where}.png")
    assert (tmp_path / "s3.png").read_bytes() == (tmp_path / "local.png").read_bytes()


def test_a_file_url_is_the_local_path(data, tmp_path):
    from mixcli.store import open_store
    from mixcli.store.local import LocalStore

    assert open_store(f"file://{tmp_path}/x") == LocalStore(tmp_path / "x")
    invoke_ok("cutmix", f"file://{data}", f"file://{tmp_path}/out", "-q")
    invoke_ok("cutmix", data, tmp_path / "ref", "-q")
    assert visible(tmp_path / "out") == visible(tmp_path / "ref")


def test_class_folders_in_s3(s3, data, tmp_path):
    import shutil

    folders = tmp_path / "folders"
    for k, p in enumerate(sorted((data / "train").iterdir())):
        (folders / f"class_{k % 3}").mkdir(parents=True, exist_ok=True)
        shutil.copy(p, folders / f"class_{k % 3}" / p.name)
    src = _upload(folders, "folders/data")
    invoke_ok("cutmix", folders, tmp_path / "ref", "-q")
    invoke_ok("cutmix", src, f"s3://{BUCKET}/folders/out", "-q")
    assert _visible(f"s3://{BUCKET}/folders/out") == visible(tmp_path / "ref")


def test_keys_are_literal_not_patterns(s3, data, tmp_path):
    src = _upload(data, "glob/data")
    _fs().pipe_file(f"{BUCKET}/glob/exp1/images/000000_img000.jpg", b"another run's")  # what exp[1] would match as a pattern
    out = f"s3://{BUCKET}/glob/exp[1]"
    invoke_ok("cutmix", src, out, "-q")
    r = invoke("cutmix", src, out, "-q", "--overwrite", "--seed", "1")  # deletes what the first run wrote
    assert r.exit_code == 0, r.output
    invoke_ok("cutmix", data, tmp_path / "ref", "-q", "--seed", "1")
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
    invoke_ok("mixup", bad, tmp_path / "ref", "--skip-bad", "-q")
    ref = visible(tmp_path / "ref")
    ref["skipped.csv"] = ref["skipped.csv"].replace(str(bad).encode(), src.encode())  # its error names where the file was read
    for w in (1, 2):
        invoke_ok("mixup", src, f"s3://{BUCKET}/skip/w{w}", "--skip-bad", "--workers", w, "-q")
        assert _visible(f"s3://{BUCKET}/skip/w{w}") == ref
    assert visible(tmp_path / "ref")["skipped.csv"].decode().splitlines()[1].startswith("img007.png,")
    assert_one_line_error(invoke("mixup", src, f"s3://{BUCKET}/skip/strict"), 1, "cannot decode image", "img007.png")


def test_the_store_interface_on_an_object_store(s3):
    """What tests/test_store.py checks of a local folder, on an S3 prefix: the same answers where
    the two kinds agree; a log is a prefix of one object per record."""
    from mixcli.store import ObjectStore, open_store

    store = open_store(f"s3://{BUCKET}/iface")
    assert store == ObjectStore("s3", f"{BUCKET}/iface") and store.kind() is None and store.files() == [] and store.entries() == []
    with store.batch() as put:
        for key in ("a.txt", ".hidden", "images/x.png", "images/sub/y.png", ".mixcli/run.json"):
            put(key, key.encode())
        assert store.kind("a.txt") is None  # sent together at the end of the block
    assert [store.kind(k) for k in ("", "a.txt", "images", "images/sub", "nothing")] == ["folder", "file", "folder", "folder", None]
    assert store.entries() == [(".hidden", False), (".mixcli", True), ("a.txt", False), ("images", True)]
    assert store.entries("images") == [("sub", True), ("x.png", False)]
    assert store.files() == [".hidden", ".mixcli/run.json", "a.txt", "images/sub/y.png", "images/x.png"]
    assert store.files(hidden=False) == ["a.txt", "images/sub/y.png", "images/x.png"] and store.files("images") == ["sub/y.png", "x.png"]
    assert store.has(["a.txt", "images", "images/sub/y.png", "nothing"]) == [True, False, True, False]
    read = store.reader(["images/x.png", "missing"])
    assert read(0) == b"images/x.png"
    with pytest.raises(FileNotFoundError):
        read(1)
    with pytest.raises(FileNotFoundError):
        store.read("missing")
    with store.open_text("a.txt") as f:
        assert f.read() == "a.txt"
    # A log: one object per record, read back in name order.
    assert store.records("j.journal") == []
    store.append("j.journal", "000003.json", b'{"chunk": 3}')
    store.append("j.journal", "000000.json", b'{"chunk": 0}')
    assert store.files("j.journal") == ["000000.json", "000003.json"]
    assert store.records("j.journal") == [b'{"chunk": 0}', b'{"chunk": 3}']
    # Folders: nothing to make (a prefix exists through its objects); an object in a folder's place is OUT's to refuse.
    store.make_folder("new/deeper")
    store.make_folder("a.txt")
    assert store.kind("a.txt") == "file" and store.kind("new/deeper") is None
    # Deleting.
    store.delete(["a.txt", "nothing"])
    store.delete_tree("images")
    store.delete_tree("j.journal")
    assert store.files() == [".hidden", ".mixcli/run.json"]
    store.delete_tree("nothing")
