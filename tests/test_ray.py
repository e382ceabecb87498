"""--distributor ray against a real local Ray started here, on 127.0.0.1 only, ended here."""

import json
import os

import pytest
import ray

from conftest import visible_files as visible
from conftest import invoke, invoke_ok, write_dataset

pytestmark = pytest.mark.slow  # starts a Ray


@pytest.fixture(scope="module")
def local_ray():
    saved = {k: os.environ.get(k) for k in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_USAGE_STATS_ENABLED")}
    os.environ.update(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0")  # loopback only (ANCHORS §9)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("d")
    return write_dataset(root, [(12 + k % 5, 10 + k % 7) for k in range(100)], [k % 4 for k in range(100)])


@pytest.mark.parametrize("args", [["mixup", "--alpha", "0.4"], ["mosaic", "--copies", "2", "--keep-originals", "--format", "png"]])
def test_a_ray_run_equals_a_local_run(local_ray, data, tmp_path, args):
    local, remote = tmp_path / "local", tmp_path / "ray"
    invoke_ok(args[0], data, local, *args[1:], "--shard-size", "16", "--seed", "3", "-q")
    r = invoke_ok(args[0], data, remote, *args[1:], "--shard-size", "16", "--seed", "3", "--distributor", "ray", "--json", "-q")
    assert json.loads(r.stdout)["rows"] == json.loads(invoke_ok(args[0], data, tmp_path / "again", *args[1:], "--shard-size", "16", "--seed", "3", "--json", "-q").stdout)["rows"]
    assert len(list((remote / ".mixcli" / "shards").glob("*.json"))) == 7
    assert visible(remote) == visible(local)


def test_an_error_in_a_ray_task_is_one_line(local_ray, data, tmp_path):
    bad = tmp_path / "bad"
    (bad / "train").mkdir(parents=True)
    for k in range(20):
        name = f"img{k:03d}.png"
        (bad / "train" / name).write_bytes((data / "train" / name).read_bytes())
    (bad / "train" / "img007.png").write_bytes(b"not an image")
    (bad / "train.csv").write_text("image,label\n" + "".join(f"img{k:03d}.png,{k % 2}\n" for k in range(20)))
    r = invoke("cutmix", bad, tmp_path / "o", "--distributor", "ray")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "img007.png" in r.stderr, r.output
    assert not (tmp_path / "o" / "train.csv").exists()


def test_ray_refuses_stdin_before_anything_is_written(data, tmp_path):
    r = invoke("mixup", data, tmp_path / "o", "--csv", "-", "--distributor", "ray", input=(data / "train.csv").read_text())
    assert r.exit_code == 2 and r.stderr == "mixcli: error: --csv - cannot go with --distributor ray: the tasks cannot read this process's standard input\n"
    assert not (tmp_path / "o").exists()  # no Ray was needed to say so, and OUT was not touched


def test_an_unreachable_ray_fails_fast_and_writes_nothing(data, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import subprocess
    import sys

    # A fresh process: in this one a Ray may already be initialised, and would be used as it is.
    r = subprocess.run([sys.executable, "-m", "mixcli", "mixup", str(data), str(tmp_path / "o"), "--distributor", "ray", "--ray-address", f"127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot reach Ray at 127.0.0.1" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "o").exists()


def test_more_workers_than_ray_has_cpus_is_refused(local_ray, data, tmp_path):
    r = invoke("mixup", data, tmp_path / "o", "--distributor", "ray", "--workers", "64")
    assert r.exit_code == 2 and "more than the 2 CPUs" in r.stderr, r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("layout", ["yolo", "coco"])
def test_a_ray_run_of_a_detection_dataset_equals_a_local_run(local_ray, tmp_path, layout):
    """Each Ray task carries its shard's objects and label maps; the merge writes the same files."""
    from detection_data import make_dataset

    make_dataset(tmp_path / "d", layout, seed=7, n=40, label_maps=tmp_path / "maps")
    args = ("--layout", layout, "--label-maps", tmp_path / "maps", "--shard-size", "16", "--format", "png", "-q")
    invoke_ok("mosaic", tmp_path / "d", tmp_path / "local", *args)
    invoke_ok("mosaic", tmp_path / "d", tmp_path / "ray", *args, "--distributor", "ray")
    assert any(k.startswith("label_maps/") for k in visible(tmp_path / "local"))
    assert visible(tmp_path / "ray") == visible(tmp_path / "local")
