"""Detection datasets through the run's guarantees: the same bytes on any worker count and
through shard groups, --resume after SIGKILL, --skip-bad, chaining, --overwrite, label map
checks; and the geometry rule's own cases (mixcli.annotations.geometry)."""

import json
import shutil
import signal
import subprocess

import cv2
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from conftest import assert_one_line_error, invoke, invoke_ok, mixcli_command, out_files, start, wait_for_journal
from detection_data import make_dataset

from mixcli.annotations.geometry import paint_map, visible
from mixcli.operations import Painted
from mixcli.records import Box, Placement

OPS = ["mixup", "cutmix", "mix", "resizemix", "mosaic", "fmix", "cutout"]


@pytest.fixture(scope="module")
def yolo40(tmp_path_factory):
    root = tmp_path_factory.mktemp("yolo40")
    make_dataset(root / "d", "yolo", seed=3, n=40, label_maps=root / "maps")
    return root


@pytest.fixture(scope="module")
def coco40(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco40")
    make_dataset(root / "d", "coco", seed=4, n=40, label_maps=root / "maps")
    return root


def _run(data, out, *args):
    return invoke_ok(args[0], data / "d", out, "--label-maps", data / "maps", "-q", *args[1:])


@pytest.mark.parametrize("op", OPS)
def test_workers_and_shard_groups_write_the_same_bytes(op, yolo40, coco40, tmp_path):
    """Labels, annotations.json, label maps and train.csv: byte-identical on 1 or 3 workers, and
    from two shard groups merged."""
    for data, layout in ((yolo40, "yolo"), (coco40, "coco")):
        one, three, groups = tmp_path / f"{layout}1", tmp_path / f"{layout}3", tmp_path / f"{layout}g"
        common = ("--layout", layout, "--shard-size", "16", "--seed", "5", "--prob", "0.8", "--format", "png")
        _run(data, one, op, *common, "--workers", "1")
        _run(data, three, op, *common, "--workers", "3")
        _run(data, groups, op, *common, "--shards", "0/2")
        _run(data, groups, op, *common, "--shards", "1/2")
        invoke_ok("merge", groups, "-q")
        files = out_files(one)
        assert (f"{'labels/000000_img00.txt' if layout == 'yolo' else 'annotations.json'}") in files
        assert any(k.startswith("label_maps/") for k in files)
        assert out_files(three) == files
        assert {k: v for k, v in out_files(groups).items() if not k.startswith(".mixcli")} == {k: v for k, v in files.items() if not k.startswith(".mixcli")}


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["yolo", "coco"])
def test_sigkill_then_resume_gives_the_same_bytes(layout, tmp_path):
    data = tmp_path / "d"
    make_dataset(data, layout, seed=6, n=64)
    ref, out = tmp_path / "ref", tmp_path / "out"
    args = ("--layout", layout, "--shard-size", "32", "--format", "png", "--size", "640x480")  # 2 chunks a shard, slow enough to kill
    assert subprocess.run(mixcli_command("mosaic", data, ref, "-q", "--quality", "90", *args)).returncode == 0
    proc = start(data, out, *args, op="mosaic")
    assert wait_for_journal(out, proc, lines=1), "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "train.csv").exists()
    resumed = subprocess.run(mixcli_command("mosaic", data, out, "--resume", "--quality", "90", *args), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert out_files(out) == out_files(ref)


def test_skip_bad_drops_an_undecodable_image_with_its_labels(tmp_path):
    data = tmp_path / "d"
    make_dataset(data, "yolo", seed=1, n=12)
    (data / "images" / "img04.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "o"
    assert_one_line_error(invoke("cutmix", data, out, "--layout", "yolo"), 1, "img04.png")
    assert not out.exists() or not (out / "train.csv").exists()
    out = tmp_path / "o2"
    invoke_ok("cutmix", data, out, "--layout", "yolo", "--skip-bad", "-q")
    table = (out / "train.csv").read_text()
    assert "img04.png" not in table and "img04" in (out / "skipped.csv").read_text()
    labels = sorted(p.name for p in (out / "labels").iterdir())
    images = sorted(p.name for p in (out / "images").iterdir())
    assert len(images) == 11 and labels == [n.replace(".jpg", ".txt") for n in images]


def test_a_yolo_out_is_a_yolo_data_and_a_coco_out_a_coco_data(tmp_path):
    """Chaining: OUT read back with its layout; the second run's objects are the first's carried on."""
    for layout in ("yolo", "coco"):
        data, first, second = tmp_path / f"{layout}d", tmp_path / f"{layout}1", tmp_path / f"{layout}2"
        make_dataset(data, layout, seed=2, n=12, label_maps=tmp_path / f"{layout}maps")
        invoke_ok("mosaic", data, first, "--layout", layout, "--label-maps", tmp_path / f"{layout}maps", "--format", "png", "-q")
        result = invoke_ok("cutout", first, second, "--layout", layout, "--label-maps", first / "label_maps", "--prob", "0", "--json", "-q")
        assert json.loads(result.stdout)["rows"] == 12
        if layout == "yolo":  # --prob 0: every label file passes through as it was
            for p in (first / "labels").iterdir():
                assert [float(v) for v in (second / "labels" / p.name).read_text().split()] == pytest.approx([float(v) for v in p.read_text().split()], abs=2e-6)
        else:
            a, b = (json.loads((d / "annotations.json").read_text()) for d in (first, second))
            assert [v for x in a["annotations"] for v in x["bbox"]] == pytest.approx([v for x in b["annotations"] for v in x["bbox"]], abs=1e-6)
            assert a["categories"] == b["categories"]
        for p in (first / "label_maps").iterdir():  # pass-through maps keep their pixels
            assert np.array_equal(cv2.imread(str(p), cv2.IMREAD_UNCHANGED), cv2.imread(str(second / "label_maps" / p.name), cv2.IMREAD_UNCHANGED))


def test_overwrite_removes_an_earlier_runs_labels_and_maps(tmp_path):
    data, out = tmp_path / "d", tmp_path / "o"
    make_dataset(data, "yolo", seed=2, n=12, label_maps=tmp_path / "maps")
    invoke_ok("mixup", data, out, "--layout", "yolo", "--label-maps", tmp_path / "maps", "--copies", "2", "-q")
    assert len(list((out / "labels").iterdir())) == 24
    invoke_ok("mixup", data, out, "--layout", "yolo", "--overwrite", "-q")
    assert len(list((out / "labels").iterdir())) == 12 and not any((out / "label_maps").rglob("*"))


def test_data_yaml_names_the_classes_and_leaves_path_to_ultralytics(tmp_path):
    data, out = tmp_path / "d", tmp_path / "o"
    make_dataset(data, "yolo", seed=2, n=12)
    invoke_ok("cutmix", data, out, "--layout", "yolo", "-q")
    import yaml

    doc = yaml.safe_load((out / "data.yaml").read_text())
    assert doc == {"train": "images", "val": "images", "names": {0: "cat", 1: "dog", 2: "bird"}}


def test_label_maps_are_checked_against_their_images(tmp_path):
    data, maps = tmp_path / "d", tmp_path / "maps"
    make_dataset(data, "yolo", seed=2, n=12, label_maps=maps)
    cv2.imwrite(str(maps / "img04.png"), np.zeros((5, 7), np.uint8))
    result = invoke("mixup", data, tmp_path / "o", "--layout", "yolo", "--label-maps", maps)
    line = assert_one_line_error(result, 1, "img04.png", "7x5")
    assert "its image" in line
    cv2.imwrite(str(maps / "img04.png"), np.zeros((10, 10, 3), np.uint8))
    assert_one_line_error(invoke("mixup", data, tmp_path / "o2", "--layout", "yolo", "--label-maps", maps), 1, "img04.png", "1-channel")
    (maps / "img04.png").unlink()
    assert_one_line_error(invoke("mixup", data, tmp_path / "o3", "--layout", "yolo", "--label-maps", maps), 1, "label map(s) not found", "img04.png")
    shutil.copy(maps / "img05.png", maps / "img04.png")  # the wrong size again, now dropped
    invoke_ok("mixup", data, tmp_path / "o4", "--layout", "yolo", "--label-maps", maps, "--skip-bad", "-q")
    assert "img04" in (tmp_path / "o4" / "skipped.csv").read_text()


def test_label_maps_go_with_a_csv_dataset_too(small_data, tmp_path):
    """--label-maps with the classification layouts: DIR/<the CSV's image path>.png."""
    import pandas as pd

    maps = tmp_path / "maps"
    table = pd.read_csv(small_data / "train.csv")
    for k, image in enumerate(table["image"]):
        shape = cv2.imread(str(small_data / "train" / image)).shape[:2]
        (maps / image).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str((maps / image).with_suffix(".png")), np.full(shape, k, np.uint8))
    out = tmp_path / "o"
    invoke_ok("cutout", small_data, out, "--label-maps", maps, "--hole-size", "0.5", "-q")
    written = sorted((out / "label_maps").iterdir())
    assert len(written) == len(table)
    m = cv2.imread(str(written[0]), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(m)) <= {0, 255} and (m == 255).any() and "label" in (out / "train.csv").read_text().splitlines()[0]


def test_interpolation_and_fit_options(tmp_path):
    """--interpolation auto and --fit stretch are the defaults (same bytes); others change bytes."""
    data = tmp_path / "d"
    make_dataset(data, "yolo", seed=2, n=12)

    def images(*args) -> dict:
        out = tmp_path / "o"
        shutil.rmtree(out, ignore_errors=True)
        invoke_ok("mosaic", data, out, "--layout", "yolo", "--size", "40x30", "-q", *args)
        return {k: v for k, v in out_files(out).items() if k.startswith(("images/", "labels/"))}

    plain = images()
    assert images("--interpolation", "auto", "--fit", "stretch") == plain
    nearest = images("--interpolation", "nearest")
    assert nearest != plain and {k for k in nearest} == {k for k in plain}
    contain = images("--fit", "contain", "--fill", "7")
    assert contain != plain
    assert_one_line_error(invoke("mosaic", data, tmp_path / "x", "--fit", "squash"), 2, "--fit")


@pytest.mark.parametrize("bad, words", [
    (("--out-format", "webdataset"), ("--out-format webdataset",)),
    (("--out-layout", "folders"), ("--out-layout folders",)),
    (("--label-smoothing", "0.1"), ("--label-smoothing",)),
])
def test_what_a_detection_run_refuses(bad, words, tmp_path):
    data = tmp_path / "d"
    make_dataset(data, "yolo", seed=2, n=12)
    assert_one_line_error(invoke("mixup", data, tmp_path / "o", "--layout", "yolo", *bad), 2, *words)
    assert not (tmp_path / "o").exists()


# ---- the geometry rule, case by case ----

def test_a_box_under_a_hole_keeps_its_visible_part():
    p = Placement(1.0, 1.0, 0.0, 0.0, Box(0, 100, 0, 100), (Box(0, 100, 50, 100),))
    assert visible((40.0, 10.0, 60.0, 30.0), p, None) == ((40.0, 10.0, 50, 30.0), 0.5)
    assert visible((60.0, 10.0, 70.0, 30.0), p, None) == (None, 0.0)
    # a hole in the middle of a box: the box stays whole, its visibility drops
    p = Placement(1.0, 1.0, 0.0, 0.0, Box(0, 100, 0, 100), (Box(40, 60, 40, 60),))
    box, share = visible((30.0, 30.0, 70.0, 70.0), p, None)
    assert box == (30.0, 30.0, 70.0, 70.0) and share == pytest.approx(1 - 400 / 1600)


def test_a_box_is_cut_to_its_window_and_measured_on_a_mask():
    p = Placement(2.0, 0.5, 10.0, 0.0, Box(0, 20, 10, 30))
    assert visible((5.0, 2.0, 25.5, 30.0), p, None) == ((10, 2.0, 25.5, 20), pytest.approx((15.5 * 18) / (20.5 * 28)))
    mask = np.zeros((10, 10), np.uint8)
    mask[2:4, 3:8] = 255
    p = Placement(1.0, 1.0, 0.0, 0.0, Box(0, 10, 0, 10), (), 255)
    box, share = visible((2.5, 1.0, 9.0, 9.0), p, mask)
    assert box == (3, 2, 8, 4) and share == pytest.approx(10 / (6.5 * 8))


def test_a_blended_rows_map_is_its_heavier_sources():
    a, b = np.full((4, 4), 1, np.uint8), np.full((2, 2), 2, np.uint8)
    whole = Box(0, 4, 0, 4)
    placements = (Placement(1.0, 1.0, 0.0, 0.0, whole), Placement(2.0, 2.0, 0.0, 0.0, whole))
    assert (paint_map([a, b], Painted("mixup", (0.4, 0.6), placements=placements, blended=True), (4, 4), 255) == 2).all()
    assert (paint_map([a, b], Painted("mixup", (0.5, 0.5), placements=placements, blended=True), (4, 4), 255) == 1).all()
    # side by side: each source where it is seen, padding the ignore index
    placements = (Placement(1.0, 1.0, 0.0, 0.0, whole, (Box(0, 4, 2, 4),)), Placement(0.5, 1.0, 2.0, 0.0, Box(0, 2, 2, 3)))
    m = paint_map([a, b], Painted("x", (0.5, 0.5), placements=placements), (4, 4), 255)
    assert m.tolist() == [[1, 1, 2, 255], [1, 1, 2, 255], [1, 1, 255, 255], [1, 1, 255, 255]]


def test_a_label_map_is_checked_against_its_image_before_size(tmp_path):
    """With --size the map must still have its image's own size; it is then resized, nearest."""
    data, maps = tmp_path / "d", tmp_path / "maps"
    make_dataset(data, "yolo", seed=2, n=12, label_maps=maps)
    invoke_ok("cutmix", data, tmp_path / "ok", "--layout", "yolo", "--label-maps", maps, "--size", "64x48", "-q")
    m = cv2.imread(str(next((tmp_path / "ok" / "label_maps").iterdir())), cv2.IMREAD_UNCHANGED)
    assert m.shape == (48, 64)
    cv2.imwrite(str(maps / "img04.png"), np.zeros((40, 50), np.uint8))
    result = invoke("cutmix", data, tmp_path / "bad", "--layout", "yolo", "--label-maps", maps, "--size", "64x48")
    assert_one_line_error(result, 1, "img04.png", "50x40", "its image")


def test_auto_reads_a_coco_dataset_and_preview_draws_its_boxes(tmp_path):
    data = tmp_path / "d"
    make_dataset(data, "coco", seed=2, n=12)
    result = invoke_ok("mosaic", data, tmp_path / "o", "--json", "-q")
    assert (tmp_path / "o" / "annotations.json").exists() and json.loads(result.stdout)["objects"] > 0
    invoke_ok("preview", data, "--op", "mosaic", "-n", "2", "-o", tmp_path / "p.png", "--layout", "coco")
    sheet = cv2.imread(str(tmp_path / "p.png"))
    assert sheet is not None and ((sheet == (0, 255, 0)).all(axis=2) | (sheet == (0, 0, 255)).all(axis=2) | (sheet == (255, 0, 0)).all(axis=2)).any()
    assert_one_line_error(invoke("mixup", data, tmp_path / "x", "--label-format", "sparse"), 2, "--label-format sparse")


@given(st.lists(st.integers(0, 40), min_size=8, max_size=8), st.lists(st.floats(0, 0.99), min_size=4, max_size=4))
@settings(max_examples=400, deadline=None)
def test_one_holes_closed_form_is_the_cells_rule(ints, fractions):
    """The box-with-one-hole shortcut equals the general cells rule (float and integer edges)."""
    from mixcli.annotations.geometry import _cells, _one_hole

    bx1, bx2 = sorted([ints[0] + fractions[0], ints[1] + fractions[1]])
    by1, by2 = sorted([ints[2] + fractions[2], ints[3] + fractions[3]])
    hx1, hx2 = sorted(ints[4:6])
    hy1, hy2 = sorted(ints[6:8])
    hole = Box(hy1, hy2, hx1, hx2)
    assume(bx2 > bx1 and by2 > by1 and hx2 > hx1 and hy2 > hy1)
    assume(hole.x1 < bx2 and hole.x2 > bx1 and hole.y1 < by2 and hole.y2 > by1)
    box, full = (bx1, by1, bx2, by2), (bx2 - bx1) * (by2 - by1)
    fast, general = _one_hole(box, hole, full), _cells(box, [hole], full)
    assert fast[0] == general[0] and fast[1] == pytest.approx(general[1], abs=1e-12)
