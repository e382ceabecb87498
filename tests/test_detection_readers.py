"""Detection datasets (--layout yolo, coco) as other tools read them: OUT loads with a real YOLO
reader (supervision's DetectionDataset.from_yolo) and with pycocotools (COCO, COCOeval), and
chains into mixcli again; Ultralytics' label-path rule; the input errors (one line naming the
file and line, nothing written; --skip-bad drops the image instead); polygons and segmentations
(read as boxes, said once in the summary); the auto layout; the refusals.

The datasets are tests/detection_data.py's (12 small PNGs, 0-4 objects each).
"""

import contextlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import assert_one_line_error, invoke, invoke_ok, read_out, text
from detection_data import NAMES, make_dataset

ATOL_PX = 1e-3  # a box read back by another tool against ours, in pixels
NORM_TOL = 1e-6  # OUT/labels' normalised coordinates are written with 6 decimals
OPS = ["mosaic", "cutmix", "mixup"]
SUMMARY_OBJECTS = "objects ("  # the summary line of a detection run: "... with N objects (M dropped ...)"


# ---------------------------------------------------------------- helpers


def yolo_data(tmp_path, seed=0) -> Path:
    data = tmp_path / "data"
    make_dataset(data, "yolo", seed=seed)
    return data


def coco_data(tmp_path, seed=0) -> Path:
    data = tmp_path / "data"
    make_dataset(data, "coco", seed=seed)
    return data


def size_of(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, as decoded."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img.shape[1], img.shape[0]


def yolo_rows(path: Path) -> list[tuple[int, list[float]]]:
    """A YOLO label file's rows: (class, [its numbers]); no file: no rows."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            f = line.split()
            rows.append((int(f[0]), [float(v) for v in f[1:]]))
    return rows


def yolo_px(path: Path, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A box label file's classes and xyxy pixel boxes, de-normalised by w x h (computed here,
    not by any reader under test)."""
    rows = yolo_rows(path)
    classes = np.array([c for c, _ in rows], dtype=int)
    boxes = np.array([[(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h] for _, (cx, cy, bw, bh) in rows], float).reshape(-1, 4)
    return classes, boxes


def yolo_norm_xyxy(path: Path) -> list[tuple]:
    """A box label file's objects as (class, x1, y1, x2, y2) normalised, sorted."""
    return sorted((c, cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2) for c, (cx, cy, bw, bh) in yolo_rows(path))


def input_label(data: Path, key: str) -> Path:
    return data / "labels" / Path(key).with_suffix(".txt")


def sources_of(table) -> set[str]:
    """Every input image a table's rows name (source_a, source_b, sources)."""
    names = set()
    for col in ("source_a", "source_b", "sources"):
        if col in table:
            for v in table[col]:
                names.update(s for s in text(v).split(";") if s)
    return names


def assert_close_sorted(got: list[tuple], want: list[tuple], tol: float, what):
    """Two lists of (class, numbers...) equal as multisets: same classes, numbers within tol."""
    assert len(got) == len(want), (what, got, want)
    for g, w in zip(sorted(got), sorted(want)):
        assert g[0] == w[0], (what, got, want)
        assert np.allclose(g[1:], w[1:], atol=tol, rtol=0), (what, got, want)


# ---------------------------------------------------------------- 1. YOLO output through supervision


def check_yolo_out(out: Path, names: dict) -> int:
    """OUT loads with supervision's YOLO reader: data.yaml as described, every image present, each
    image's class ids and boxes those of its OUT/labels file (de-normalised here), the objects
    column its row count. The number of objects."""
    import supervision as sv

    spec = yaml.safe_load((out / "data.yaml").read_text())
    assert "path" not in spec, spec
    assert spec["train"] == "images" and spec["val"] == "images", spec
    assert spec["names"] == names, spec

    table = read_out(out)
    files = sorted(p.name for p in (out / "images").iterdir())
    assert sorted(table["image"]) == [f"images/{f}" for f in files]
    assert sorted(p.name for p in (out / "labels").iterdir()) == sorted(Path(f).stem + ".txt" for f in files)

    ds = sv.DetectionDataset.from_yolo(images_directory_path=str(out / "images"), annotations_directory_path=str(out / "labels"),
                                       data_yaml_path=str(out / "data.yaml"))
    assert ds.classes == [names[k] for k in sorted(names)]
    assert len(ds) == len(files)
    assert sorted(Path(p).name for p in ds.image_paths) == files

    objects = dict(zip(table["image"], table["objects"]))
    total = 0
    for path, det in ds.annotations.items():
        name = Path(path).name
        w, h = size_of(out / "images" / name)
        label = out / "labels" / (Path(name).stem + ".txt")
        classes, boxes = yolo_px(label, w, h)
        assert len(det) == len(classes) == objects[f"images/{name}"], (name, len(det), len(classes))
        assert det.class_id.tolist() == classes.tolist(), name
        assert np.allclose(det.xyxy, boxes, atol=ATOL_PX, rtol=0), (name, det.xyxy, boxes)
        # inside the image, positive sides
        assert (boxes[:, 0] >= -ATOL_PX).all() and (boxes[:, 1] >= -ATOL_PX).all(), (name, boxes)
        assert (boxes[:, 2] <= w + ATOL_PX).all() and (boxes[:, 3] <= h + ATOL_PX).all(), (name, boxes)
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all(), (name, boxes)
        total += len(det)
    assert total == int(table["objects"].sum())
    return total


@pytest.mark.parametrize("op", OPS)
def test_yolo_out_loads_with_supervision_and_chains(tmp_path, op):
    data = yolo_data(tmp_path)
    out, out2 = tmp_path / "out", tmp_path / "out2"
    result = invoke_ok(op, data, out, "--layout", "yolo", "--format", "png", "--seed", "3")
    total = check_yolo_out(out, NAMES)
    assert total > 0
    assert f"with {total} {SUMMARY_OBJECTS}" in result.stderr, result.stderr
    table = read_out(out)
    assert len(table) == 12 and (table["op"] == op).all()

    if op == "mixup":
        # computed from the input's txt files: a partner is resized onto its row's image, so
        # normalised boxes do not move; every object of both sources is kept
        for _, row in table.iterrows():
            want = yolo_norm_xyxy(input_label(data, row["source_a"])) + yolo_norm_xyxy(input_label(data, row["source_b"]))
            got = yolo_norm_xyxy(out / "labels" / (Path(row["image"]).stem + ".txt"))
            assert_close_sorted(got, want, NORM_TOL, row["image"])
    if op == "mosaic":
        # computed from train.csv's cells: each written box lies within one source's cell
        for _, row in table.iterrows():
            w, h = size_of(out / row["image"])
            cells = [list(map(int, b.split())) for b in row["boxes"].split(";")]
            _, boxes = yolo_px(out / "labels" / (Path(row["image"]).stem + ".txt"), w, h)
            for b in boxes:
                assert any(b[0] >= x1 - ATOL_PX and b[1] >= y1 - ATOL_PX and b[2] <= x2 + ATOL_PX and b[3] <= y2 + ATOL_PX
                           for x1, y1, x2, y2 in cells), (row["image"], b, cells)

    # chaining: OUT is a YOLO DATA (its train.csv beside it is why --layout is given)
    invoke_ok(op, out, out2, "--layout", "yolo", "--format", "png", "--seed", "4")
    check_yolo_out(out2, NAMES)
    table2 = read_out(out2)
    assert len(table2) == 12
    assert set(table2["source_a"]) == {Path(i).name for i in table["image"]}


def test_yolo_names_that_need_quoting(tmp_path):
    """data.yaml names with a colon, a quote, a hash and a non-ASCII letter come back as given."""
    data = yolo_data(tmp_path)
    names = {0: "a: b", 1: "it's", 2: "café #1"}
    (data / "data.yaml").write_text(yaml.safe_dump({"names": names}, allow_unicode=True))
    out = tmp_path / "out"
    invoke_ok("mosaic", data, out, "--layout", "yolo", "--format", "png")
    check_yolo_out(out, names)


def test_yolo_jpg_output_loads(tmp_path):
    """--format jpg: the labels follow the .jpg names."""
    data = yolo_data(tmp_path, seed=2)
    out = tmp_path / "out"
    invoke_ok("cutmix", data, out, "--layout", "yolo", "--format", "jpg")
    assert all(p.suffix == ".jpg" for p in (out / "images").iterdir())
    check_yolo_out(out, NAMES)


# ---------------------------------------------------------------- 2. COCO output through pycocotools


def coco_quiet(path: Path):
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def check_coco_out(out: Path, categories: list[dict]) -> list[dict]:
    """OUT/annotations.json loads with pycocotools and is consistent with OUT: image files there at
    the sizes said, every bbox inside its image, area w*h, unique ids, the input's categories, the
    objects column; COCOeval of it against itself is AP 1.0. Its annotations."""
    from pycocotools.cocoeval import COCOeval

    coco = coco_quiet(out / "annotations.json")
    table = read_out(out)
    objects = dict(zip(table["image"], table["objects"]))

    assert coco.dataset["categories"] == categories
    assert coco.loadCats(coco.getCatIds()) == categories
    img_ids = coco.getImgIds()
    assert len(img_ids) == len(set(img_ids)) == len(table)
    images = coco.loadImgs(img_ids)
    assert sorted(im["file_name"] for im in images) == sorted(table["image"])
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(Path(im["file_name"]).name for im in images)

    ann_ids = coco.getAnnIds()
    assert len(ann_ids) == len(set(ann_ids)) == len(coco.dataset["annotations"])
    anns = coco.loadAnns(ann_ids)
    known = {c["id"] for c in categories}
    for im in images:
        path = out / im["file_name"]
        assert path.is_file(), path
        assert size_of(path) == (im["width"], im["height"]), im
        mine = coco.loadAnns(coco.getAnnIds(imgIds=[im["id"]]))
        assert len(mine) == objects[im["file_name"]], im
        for a in mine:
            x, y, w, h = a["bbox"]
            assert len(a["bbox"]) == 4 and all(isinstance(v, float) for v in a["bbox"]), a
            assert 0 <= x and 0 <= y and x + w <= im["width"] and y + h <= im["height"], (im, a)
            assert w > 0 and h > 0, a
            assert a["area"] == w * h, a
            assert a["category_id"] in known, a
            assert a["iscrowd"] in (0, 1), a
            assert 0 < a["weight"] <= 1 and 0 < a["visibility"] <= 1, a
    assert sum(len(coco.getAnnIds(imgIds=[i])) for i in img_ids) == len(anns) == int(table["objects"].sum())

    if anns:  # consumable by COCOeval: the output scored against itself is perfect
        dt = coco.loadRes([{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0} for a in anns])
        ev = COCOeval(coco, dt, "bbox")
        with contextlib.redirect_stdout(io.StringIO()):
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        assert ev.stats[0] == pytest.approx(1.0), ev.stats  # AP @[.5:.95]
        assert ev.stats[1] == pytest.approx(1.0), ev.stats  # AP @.5
        assert ev.stats[8] == pytest.approx(1.0), ev.stats  # AR @100
    return anns


@pytest.mark.parametrize("op", OPS)
def test_coco_out_loads_with_pycocotools_and_chains(tmp_path, op):
    data = coco_data(tmp_path)
    source = json.loads((data / "annotations.json").read_text())
    out, out2 = tmp_path / "out", tmp_path / "out2"
    invoke_ok(op, data, out, "--layout", "coco", "--format", "png", "--seed", "3")
    anns = check_coco_out(out, source["categories"])
    assert anns
    table = read_out(out)
    assert len(table) == 12 and (table["op"] == op).all()

    if op == "mixup":
        # computed from the input's annotations: A's boxes as they are (weight lam), B's scaled
        # to A's size (weight 1 - lam), all kept, visibility 1
        size = {im["file_name"]: (im["width"], im["height"]) for im in source["images"]}
        by_file = {im["file_name"]: [a for a in source["annotations"] if a["image_id"] == im["id"]] for im in source["images"]}
        out_doc = json.loads((out / "annotations.json").read_text())
        out_id = {im["file_name"]: im["id"] for im in out_doc["images"]}
        for _, row in table.iterrows():
            a_key, b_key, lam = row["source_a"], row["source_b"], float(row["lam"])
            (wa, ha), (wb, hb) = size[a_key], size[b_key]
            sx, sy = wa / wb, ha / hb
            want = [(a["category_id"], *a["bbox"], lam) for a in by_file[a_key]]
            want += [(a["category_id"], a["bbox"][0] * sx, a["bbox"][1] * sy, a["bbox"][2] * sx, a["bbox"][3] * sy, 1 - lam) for a in by_file[b_key]]
            got_anns = [a for a in out_doc["annotations"] if a["image_id"] == out_id[row["image"]]]
            assert all(a["visibility"] == 1.0 for a in got_anns), got_anns
            got = [(a["category_id"], *a["bbox"], a["weight"]) for a in got_anns]
            assert_close_sorted(got, want, 1e-5, row["image"])

    # chaining: OUT is a COCO DATA (file_name images/... resolves under OUT)
    invoke_ok(op, out, out2, "--layout", "coco", "--format", "png", "--seed", "4")
    check_coco_out(out2, source["categories"])
    table2 = read_out(out2)
    assert len(table2) == 12
    assert set(table2["source_a"]) == {Path(i).name for i in table["image"]}


def test_coco_passthrough_keeps_categories_crowd_and_clips(tmp_path):
    """--prob 0: each image's annotations as given (a bbox over the image's edges clipped to it),
    iscrowd carried, the categories as read (supercategory included)."""
    data = coco_data(tmp_path)
    doc = json.loads((data / "annotations.json").read_text())
    for c in doc["categories"]:
        c["supercategory"] = "animal"
    doc["annotations"][0]["bbox"] = [-5, -4, 30, 20]
    doc["annotations"][1]["iscrowd"] = 1
    (data / "annotations.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    invoke_ok("cutmix", data, out, "--layout", "coco", "--format", "png", "--prob", "0")
    anns = check_coco_out(out, doc["categories"])
    out_doc = json.loads((out / "annotations.json").read_text())
    key_of = {im["id"]: im["file_name"] for im in out_doc["images"]}
    table = read_out(out)
    source = dict(zip(table["image"], table["source_a"]))
    in_id = {im["file_name"]: im for im in doc["images"]}

    def clipped(a, im):
        x, y, w, h = a["bbox"]
        x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, im["width"]), min(y + h, im["height"])
        return (a["category_id"], x1, y1, x2 - x1, y2 - y1, a.get("iscrowd", 0))

    for file_name in key_of.values():
        im = in_id[source[file_name]]
        want = [clipped(a, im) for a in doc["annotations"] if a["image_id"] == im["id"]]
        got = [(a["category_id"], *a["bbox"], a["iscrowd"]) for a in anns if key_of[a["image_id"]] == file_name]
        assert_close_sorted(got, want, 1e-9, file_name)
    assert sum(a["iscrowd"] for a in anns) == 1
    assert [0.0, 0.0, 25.0, 16.0] in [a["bbox"] for a in anns]


# ---------------------------------------------------------------- 3. Ultralytics' label-path rule


def test_label_path_is_ultralytics_rule(tmp_path):
    """DATA/images/a/images/x.png has its labels at DATA/images/a/labels/x.txt (the last images/
    becomes labels/), not at DATA/labels/a/images/x.txt; a folder named like myimages/ is no
    images/ folder."""
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    cases = {  # image key under DATA/images -> (its label file under DATA, rows)
        "a/images/x.png": ("images/a/labels/x.txt", 3),
        "a/images/deeper/y.png": ("images/a/labels/deeper/y.txt", 2),
        "myimages/z.png": ("labels/myimages/z.txt", 1),
        "plain.png": ("labels/plain.txt", 4),
    }
    decoys = {  # label files the rule does not pick (another count of rows)
        "labels/a/images/x.txt": 1,
        "labels/a/images/deeper/y.txt": 4,
    }
    for key, (label, n) in cases.items():
        (data / "images" / key).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(data / "images" / key), rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
        (data / label).parent.mkdir(parents=True, exist_ok=True)
        (data / label).write_text("".join(f"{k % 3} 0.{k + 2} 0.5 0.1{k} 0.2\n" for k in range(n)))
    for label, n in decoys.items():
        (data / label).parent.mkdir(parents=True, exist_ok=True)
        (data / label).write_text("".join("0 0.5 0.5 0.2 0.2\n" for _ in range(n)))
    (data / "data.yaml").write_text("names: [cat, dog, bird]\n")

    out = tmp_path / "out"
    invoke_ok("cutmix", data, out, "--layout", "yolo", "--format", "png", "--prob", "0")
    table = read_out(out)
    assert (table["op"] == "none").all()
    assert sorted(table["source_a"]) == sorted(cases)
    for _, row in table.iterrows():
        label, n = cases[row["source_a"]]
        assert row["objects"] == n, (row["source_a"], row["objects"], n)
        # passed through unchanged: the same boxes
        got = yolo_norm_xyxy(out / "labels" / (Path(row["image"]).stem + ".txt"))
        assert_close_sorted(got, yolo_norm_xyxy(data / label), NORM_TOL, row["source_a"])
    check_yolo_out(out, {0: "cat", 1: "dog", 2: "bird"})


# ---------------------------------------------------------------- 4. input errors


YOLO_BAD = {  # case -> (label key, bad row, words of the message)
    "4 fields": ("img04.png", "0 0.5 0.5 0.2", ["5 fields", "got 4"]),
    "coordinate 1.5": ("img06.png", "1 1.5 0.5 0.2 0.2", ["[0, 1]"]),
    "class not in names": ("sub/img08.png", "3 0.5 0.5 0.2 0.2", ["class 3", "data.yaml"]),
    "non-numeric coordinate": ("img10.png", "2 0.5 abc 0.2 0.2", ["number"]),
}


def spoil_yolo(data: Path, key: str, row: str) -> tuple[Path, int]:
    """Append a bad row to an image's label file; the file and the row's line number."""
    label = input_label(data, key)
    lines = label.read_text().splitlines()
    label.write_text("\n".join([*lines, row]) + "\n")
    return label, len(lines) + 1


@pytest.mark.parametrize("case", YOLO_BAD)
def test_yolo_bad_label_row(tmp_path, case):
    key, row, words = YOLO_BAD[case]
    data = yolo_data(tmp_path)
    label, line = spoil_yolo(data, key, row)
    out = tmp_path / "out"
    result = invoke("cutmix", data, out, "--layout", "yolo", "--format", "png")
    where = str(label.relative_to(data.parent))  # data/labels/...
    assert_one_line_error(result, 1, where, f"line {line}", *words)
    assert not out.exists()

    # --skip-bad: the image is dropped, and said why
    result = invoke_ok("cutmix", data, out, "--layout", "yolo", "--format", "png", "--skip-bad")
    skipped = read_out_csv(out / "skipped.csv")
    assert list(skipped) == ["image", "error"]
    assert skipped["image"].tolist() == [key]
    assert f"line {line}" in skipped["error"][0] and all(w in skipped["error"][0] for w in words), skipped["error"][0]
    table = read_out(out)
    assert len(table) == 11
    assert key not in sources_of(table)
    assert key in result.stderr  # the summary names the skipped image
    check_yolo_out(out, NAMES)


def read_out_csv(path: Path):
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, dtype=str)


def _coco_image_id(doc):
    doc["annotations"][1]["image_id"] = 9999
    return f"annotation {doc['annotations'][1]['id']}", ["image"]


def _coco_category(doc):
    doc["annotations"][2]["category_id"] = 5
    return f"annotation {doc['annotations'][2]['id']}", ["category_id 5"]


def _coco_bbox3(doc):
    doc["annotations"][3]["bbox"] = doc["annotations"][3]["bbox"][:3]
    return f"annotation {doc['annotations'][3]['id']}", ["bbox"]


COCO_BAD = {"image_id not in images": _coco_image_id, "unknown category_id": _coco_category, "bbox of 3 numbers": _coco_bbox3}


@pytest.mark.parametrize("case", COCO_BAD)
def test_coco_bad_annotation(tmp_path, case):
    data = coco_data(tmp_path)
    doc = json.loads((data / "annotations.json").read_text())
    named, words = COCO_BAD[case](doc)
    (data / "annotations.json").write_text(json.dumps(doc, indent=1))
    out = tmp_path / "out"
    result = invoke("cutmix", data, out, "--layout", "coco", "--format", "png")
    line = assert_one_line_error(result, 1, "data/annotations.json", *words)
    assert f"{named} " in line or f"{named}:" in line, line
    assert not out.exists()


def test_coco_missing_image(tmp_path):
    data = coco_data(tmp_path)
    (data / "images" / "img07.png").unlink()
    out = tmp_path / "out"
    result = invoke("cutmix", data, out, "--layout", "coco", "--format", "png")
    assert_one_line_error(result, 1, "data/annotations.json", "img07.png")
    assert not out.exists()


def test_coco_malformed_json(tmp_path):
    data = coco_data(tmp_path)
    raw = (data / "annotations.json").read_text()
    bad = raw.replace('"annotations": [', '"annotations": [,', 1)
    assert bad != raw
    (data / "annotations.json").write_text(bad)
    with pytest.raises(json.JSONDecodeError) as e:
        json.loads(bad)
    out = tmp_path / "out"
    result = invoke("cutmix", data, out, "--layout", "coco", "--format", "png")
    assert_one_line_error(result, 1, "data/annotations.json", f"line {e.value.lineno}")
    assert not out.exists()


# ---------------------------------------------------------------- 5. polygons and segmentations


def test_yolo_polygons_read_as_boxes(tmp_path):
    data = yolo_data(tmp_path)
    polygons = {  # label key -> polygon rows (class, points)
        "img01.png": [(1, [(0.1, 0.2), (0.4, 0.25), (0.3, 0.6)]),  # a triangle: 7 fields
                      (2, [(0.5, 0.5), (0.9, 0.55), (0.95, 0.9), (0.7, 0.95), (0.55, 0.8)])],
        "sub/img03.png": [(0, [(0.2, 0.1), (0.6, 0.1), (0.6, 0.7), (0.2, 0.7)])],
    }
    for key, rows in polygons.items():
        input_label(data, key).write_text("".join(f"{c} " + " ".join(f"{x} {y}" for x, y in pts) + "\n" for c, pts in rows))
    out = tmp_path / "out"
    result = invoke_ok("cutmix", data, out, "--layout", "yolo", "--format", "png", "--prob", "0", "--json")
    note = "3 polygon(s) read as their bounding boxes"
    assert result.stderr.count("polygon(s) read as their bounding boxes") == 1, result.stderr
    assert note in result.stderr, result.stderr
    assert json.loads(result.stdout)["notes"] == [note]

    table = read_out(out)
    for _, row in table.iterrows():
        got = yolo_norm_xyxy(out / "labels" / (Path(row["image"]).stem + ".txt"))
        if row["source_a"] in polygons:
            want = [(c, min(x for x, _ in pts), min(y for _, y in pts), max(x for x, _ in pts), max(y for _, y in pts)) for c, pts in polygons[row["source_a"]]]
        else:
            want = yolo_norm_xyxy(input_label(data, row["source_a"]))
        assert row["objects"] == len(want), row
        assert_close_sorted(got, want, NORM_TOL, row["source_a"])
    check_yolo_out(out, NAMES)


def test_no_polygon_no_note(tmp_path):
    data = yolo_data(tmp_path)
    result = invoke_ok("cutmix", data, tmp_path / "out", "--layout", "yolo", "--format", "png", "--json")
    assert json.loads(result.stdout)["notes"] == []
    assert "read as their bounding boxes" not in result.stderr and "segmentation not read" not in result.stderr, result.stderr


def test_coco_segmentation_not_read(tmp_path):
    data = coco_data(tmp_path)
    doc = json.loads((data / "annotations.json").read_text())
    for a in doc["annotations"][:3]:
        x, y, w, h = a["bbox"]
        a["segmentation"] = [[x, y, x + w, y, x + w / 2, y + h]]
    (data / "annotations.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    result = invoke_ok("mixup", data, out, "--layout", "coco", "--format", "png", "--json")
    assert result.stderr.count("segmentation not read") == 1, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert len(notes) == 1 and "segmentation not read" in notes[0], notes
    check_coco_out(out, doc["categories"])


# ---------------------------------------------------------------- 6. the auto layout


def test_auto_layout_yolo_without_train_csv(tmp_path):
    data = yolo_data(tmp_path)
    out = tmp_path / "out"
    invoke_ok("cutmix", data, out, "--format", "png")
    table = read_out(out)
    assert "objects" in table and "label" not in table
    assert not any(c.startswith("p_") for c in table.columns)
    assert (out / "labels").is_dir()
    check_yolo_out(out, NAMES)


def test_auto_layout_csv_beside_images_and_labels(tmp_path):
    data = yolo_data(tmp_path)
    keys = sorted(str(p.relative_to(data)) for p in (data / "images").rglob("*.png"))
    (data / "train.csv").write_text("image,label\n" + "".join(f"{k},{'ab'[i % 2]}\n" for i, k in enumerate(keys)))
    out = tmp_path / "out"
    invoke_ok("cutmix", data, out, "--format", "png")
    table = read_out(out)
    assert "objects" not in table
    assert "label" in table and {"p_a", "p_b"} <= set(table.columns)
    assert not (out / "labels").exists() and not (out / "data.yaml").exists() and not (out / "annotations.json").exists()
    assert sorted(table["source_a"]) == keys


# ---------------------------------------------------------------- 7. refusals


@pytest.mark.parametrize("layout, option, words", [
    ("yolo", ("--out-format", "webdataset"), ["--out-format webdataset", "--layout yolo"]),
    ("coco", ("--out-layout", "folders"), ["--out-layout folders", "--layout coco"]),
])
def test_refusals(tmp_path, layout, option, words):
    data = yolo_data(tmp_path) if layout == "yolo" else coco_data(tmp_path)
    out = tmp_path / "out"
    result = invoke("cutmix", data, out, "--layout", layout, *option)
    assert_one_line_error(result, 2, *words)
    assert not out.exists()
