"""Detection datasets (--layout yolo, coco): every box and label map mixcli writes, checked
against the output pixels.

The fixture (tests/detection_data.py) paints every background and object a colour of its own,
so an output pixel tells which source and which object it shows. For each row, each source
reaches the output by a resize and an offset (train.csv's sources, boxes, x1..y2, mask say
where) and shows in a region: everywhere (mixup), outside or inside the pasted box (cutmix,
resizemix), its quadrant (mosaic), its side of the mask (fmix), outside the holes (cutout).
An object's box written must then be:
- the geometry rule: the bounding box of the part of its mapped box inside that region, to
  1e-6 px (to 1 px with --fit cover, whose crop is rounded);
- the pixels (but MixUp's, all blends): the bounding box of the output pixels of its colour or
  of the objects drawn over it (within its mapped box and its source's region), exactly for a
  source at its own size; for a resized one (its edges blend) it holds those pixels and lies
  within the pixels that show any of it, to 1 px;
- written when clearly visible (share >= 0.2, sides >= 4 px; the run's thresholds are 0.1, 2),
  never when clearly not (share < 0.05, a side < 1 px, or no pixel).
Failures are listed as: run, row, source, object, expected, written.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import invoke, invoke_ok, read_out, text, visible_files
from detection_data import Dataset, ImageTruth, check_dataset, make_dataset

OPS = ["mixup", "cutmix", "mix", "resizemix", "mosaic", "fmix", "cutout"]
LAYOUTS = ["yolo", "coco"]
CASES = {  # name: the run's options besides the layout, format, thresholds and label maps
    "seed 0": ("--seed", "0"),
    "seed 1, 2 copies, originals": ("--seed", "1", "--copies", "2", "--keep-originals"),
}
OP_OPTIONS = {"cutout": ("--holes", "3", "--hole-size", "0.3"), "mix": ("--switch-prob", "0.5")}
THRESHOLDS = ("--min-visibility", "0.1", "--min-box-size", "2")
KEEP_SHARE, KEEP_SIDE = 0.2, 4.0  # clearly above the thresholds: the box must be written
DROP_SHARE, DROP_SIDE = 0.05, 1.0  # clearly below: it must not
COLOUR_TOL = 10  # a resized source's pixel of colour c: within 10 levels of c in every channel
PIXEL_TOL = 1.0  # a resized source's box against the pixels that show its object, on each edge
MATCH_TOL = 4.0  # a written box is taken for an object's (then checked) within 4 px of its expected box
COVER_TOL = 1.0  # --fit cover: the rounded crop against the exact one
IGNORE = 255


# ---------------------------------------------------------------- running and reading


@dataclass
class OutBox:
    cls: int
    box: tuple  # (x1, y1, x2, y2) float px
    weight: float | None = None  # coco only
    visibility: float | None = None
    area: float | None = None
    iscrowd: int | None = None


@dataclass
class Run:
    ds: Dataset
    out: Path
    args: tuple
    df: object = None
    boxes: dict = field(default_factory=dict)  # train.csv image -> [OutBox]
    coco: dict | None = None

    @property
    def layout(self):
        return self.ds.layout

    def option(self, flag, default=None):
        return self.args[self.args.index(flag) + 1] if flag in self.args else default


def label_path(out: Path, image: str, folder: str, suffix: str) -> Path:
    """OUT/<folder>/<the image's path under OUT/images, with suffix>."""
    return out / folder / Path(image).relative_to("images").with_suffix(suffix)


def read_run(ds: Dataset, out: Path, args: tuple) -> Run:
    r = Run(ds, out, tuple(str(a) for a in args))
    r.df = read_out(out)
    if ds.layout == "yolo":
        for row in r.df.itertuples():
            h, w = cv2.imread(str(out / row.image), cv2.IMREAD_UNCHANGED).shape[:2]
            path = label_path(out, row.image, "labels", ".txt")
            lines = path.read_text().splitlines() if path.exists() else []
            got = []
            for line in lines:
                c, cx, cy, bw, bh = line.split()
                cx, cy, bw, bh = float(cx), float(cy), float(bw), float(bh)
                got.append(OutBox(int(c), ((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)))
            r.boxes[row.image] = got
    else:
        r.coco = json.loads((out / "annotations.json").read_text())
        ids = {im["id"]: im["file_name"] for im in r.coco["images"]}
        r.boxes = {im: [] for im in r.df.image}
        for a in r.coco["annotations"]:
            x, y, bw, bh = a["bbox"]
            r.boxes.setdefault(ids[a["image_id"]], []).append(
                OutBox(a["category_id"], (x, y, x + bw, y + bh), a.get("weight"), a.get("visibility"), a.get("area"), a.get("iscrowd")))
    return r


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict:
    """A YOLO and a COCO dataset of 12 images, with label maps beside each."""
    root = tmp_path_factory.mktemp("detection")
    return {layout: make_dataset(root / layout, layout, seed=0, label_maps=root / f"{layout}_maps") for layout in LAYOUTS}


@pytest.fixture(scope="module")
def run(tmp_path_factory, datasets):
    """run(layout, op, *args, maps=True, fresh=False): `mixcli OP DATA OUT --layout L --format png
    --min-visibility 0.1 --min-box-size 2 [--label-maps DIR] ARGS`, read back (cached)."""
    cache = {}

    def run(layout, op, *args, maps=True, fresh=False):
        args = tuple(str(a) for a in args)
        key = (layout, op, args, maps)
        if fresh or key not in cache:
            ds = datasets[layout]
            out = tmp_path_factory.mktemp(op) / "out"
            extra = ("--label-maps", ds.label_maps) if maps else ()
            invoke_ok(op, ds.root, out, "--layout", layout, "--format", "png", *THRESHOLDS, *extra, "-q", *args)
            result = read_run(ds, out, args)
            if fresh:
                return result
            cache[key] = result
        return cache[key]

    return run


def op_args(op, case):
    return (*OP_OPTIONS.get(op, ()), *CASES[case])


# ---------------------------------------------------------------- where each source went


@dataclass
class Placement:
    """Source number `index` of a row: output x = ox + sx * source x (y likewise), shown on `region`."""
    index: int
    truth: ImageTruth
    sx: float
    sy: float
    ox: float
    oy: float
    region: np.ndarray  # bool H x W: the output pixels that show this source
    tol: float  # the geometry rule's tolerance, px
    content: tuple | None = None  # --fit contain: the rectangle the resized source fills
    cell: tuple | None = None  # the rectangle the source was fitted into

    @property
    def exact(self) -> bool:
        return self.sx == 1 and self.sy == 1 and float(self.ox).is_integer() and float(self.oy).is_integer()

    def mapped(self, box) -> tuple:
        x1, y1, x2, y2 = box
        return (self.ox + x1 * self.sx, self.oy + y1 * self.sy, self.ox + x2 * self.sx, self.oy + y2 * self.sy)


def source_key(ds: Dataset, s: str) -> str:
    """A `sources` entry as a key of the dataset (a path relative to DATA/images)."""
    for key in (s, s.removeprefix("images/")):
        if key in ds.images:
            return key
    raise AssertionError(f"source {s!r} is not an image of the dataset")


def rect_mask(h, w, rect) -> np.ndarray:
    m = np.zeros((h, w), bool)
    x1, y1, x2, y2 = rect
    m[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = True
    return m


def matches(img: np.ndarray, colour, tol: int) -> np.ndarray:
    """The pixels of img within tol of colour in every channel."""
    return (np.abs(img.astype(np.int16) - np.array(colour, np.int16)) <= tol).all(axis=2)


def parse_rects(v) -> list[tuple]:
    s = text(v)
    return [tuple(int(float(t)) for t in b.split()) for b in s.split(";")] if s else []


def fit_into(img, truth: ImageTruth, pw, ph, cell, fit):
    """How a source of pw x ph px (after --size) lands in cell: (sx, sy, ox, oy, region, tol,
    content). contain: the content rectangle is found in the pixels (the source's colours inside
    the cell), so where the padding goes is the implementation's choice."""
    x1, y1, x2, y2 = cell
    cw, ch = x2 - x1, y2 - y1
    if fit == "stretch":
        return cw / pw, ch / ph, x1, y1, cell, 0.0, None
    if fit == "cover":
        s = max(cw / pw, ch / ph)
        return s, s, x1 + (cw - pw * s) / 2, y1 + (ch - ph * s) / 2, cell, COVER_TOL, None
    assert fit == "contain", fit
    inside = rect_mask(img.shape[0], img.shape[1], cell)
    mine = np.zeros_like(inside)
    for c in truth.colours():
        mine |= matches(img, c, COLOUR_TOL)
    ys, xs = np.nonzero(mine & inside)
    if len(xs) == 0:
        return cw / pw, ch / ph, x1, y1, (x1, y1, x1, y1), 0.0, (x1, y1, x1, y1)
    content = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return (content[2] - content[0]) / pw, (content[3] - content[1]) / ph, content[0], content[1], content, 0.0, content


def placements(run: Run, row, img: np.ndarray) -> list[Placement]:
    """Where each of the row's sources went, from its train.csv row (and mask) and, for contain,
    its pixels."""
    ds = run.ds
    h, w = img.shape[:2]
    keys = [source_key(ds, s) for s in text(row.sources).split(";")]
    truths = [ds.images[k] for k in keys]
    size = run.option("--size")
    fit = run.option("--fit", "stretch")
    everywhere = np.ones((h, w), bool)

    def pre(t):  # --size: every source resized first
        if size:
            sw, sh = map(int, size.split("x"))
            return sw, sh, sw / t.width, sh / t.height
        return t.width, t.height, 1.0, 1.0

    def place(i, cell, fit_mode, region=None):
        t = truths[i]
        pw, ph, px, py = pre(t)
        sx, sy, ox, oy, rect, tol, content = fit_into(img, t, pw, ph, cell, fit_mode)
        reg = rect_mask(h, w, rect) if region is None else region
        return Placement(i, t, sx * px, sy * py, ox, oy, reg, tol, content, cell)

    op = row.op
    whole = (0, 0, w, h)
    if op in ("none",):
        return [place(0, whole, "stretch", everywhere)]
    if op == "mixup":
        return [place(0, whole, "stretch", everywhere), place(1, whole, "stretch", everywhere)]
    if op in ("cutmix", "resizemix"):
        box = tuple(int(getattr(row, c)) for c in ("x1", "y1", "x2", "y2"))
        inside = rect_mask(h, w, box)
        a = place(0, whole, "stretch", ~inside)
        if op == "cutmix":
            return [a, place(1, whole, "stretch", inside)]
        if box[2] <= box[0] or box[3] <= box[1]:
            return [a]
        return [a, place(1, box, fit)]
    if op == "mosaic":
        quads = parse_rects(row.boxes)
        assert len(quads) == len(truths) == 4, (row.image, row.boxes, row.sources)
        return [place(i, q, fit) for i, q in enumerate(quads) if q[2] > q[0] and q[3] > q[1]]
    if op == "fmix":
        mask = cv2.imread(str(run.out / row.mask), cv2.IMREAD_UNCHANGED)
        assert mask is not None and mask.shape == (h, w), row.mask
        return [place(0, whole, "stretch", mask == 0), place(1, whole, "stretch", mask == 255)]
    if op == "cutout":
        holes = np.zeros((h, w), bool)
        for rect in parse_rects(row.boxes):
            holes |= rect_mask(h, w, rect)
        return [place(0, whole, "stretch", ~holes)]
    raise AssertionError(f"unknown op {op}")


# ---------------------------------------------------------------- what each object should give


def overlaps(lo, hi, n) -> np.ndarray:
    """The length of [lo, hi] inside each pixel [i, i+1), i < n."""
    i = np.arange(n)
    return np.clip(np.minimum(i + 1, hi) - np.maximum(i, lo), 0, None)


def expected(p: Placement, k: int):
    """The geometry rule for object k: (mapped box, box of its visible part or None, visible share)."""
    m = p.mapped(p.truth.objects[k].box)
    h, w = p.region.shape
    ox, oy = overlaps(m[0], m[2], w), overlaps(m[1], m[3], h)
    area = np.outer(oy, ox) * p.region
    seen = area > 1e-9
    if not seen.any():
        return m, None, 0.0
    cols, rows = np.nonzero(seen.any(axis=0))[0], np.nonzero(seen.any(axis=1))[0]
    box = (max(m[0], cols[0]), max(m[1], rows[0]), min(m[2], cols[-1] + 1), min(m[3], rows[-1] + 1))
    return m, box, float(area.sum()) / ((m[2] - m[0]) * (m[3] - m[1]))


def footprint(img, p: Placement, k: int, m):
    """The pixels of object k in the output: of its colour or of an object drawn over it, in its
    source's region, centre inside its mapped box m. (bounding box or None, count, bounding
    box of its own colour's pixels or None, bounding box of the pixels that show any of it).

    The last: the region's pixels that overlap m and are not of a colour of the source that
    is neither the object's nor its occluders' (a resized edge's blends count), or that m
    covers less than a quarter of (a sliver of the object too thin to colour a pixel): the most
    a box may cover."""
    t = p.truth
    tol = 0 if p.exact else COLOUR_TOL
    own = matches(img, t.objects[k].colour, tol) & p.region
    pix = own.copy()
    for j in t.occluders(k):
        pix |= matches(img, t.objects[j].colour, tol) & p.region
    h, w = p.region.shape
    cx, cy = np.arange(w) + 0.5, np.arange(h) + 0.5
    inside = np.outer((cy > m[1]) & (cy < m[3]), (cx > m[0]) & (cx < m[2]))
    cover = np.outer(overlaps(m[1], m[3], h), overlaps(m[0], m[2], w))
    touched = (cover > 0) & p.region
    others = np.zeros_like(touched)
    for c in [t.background] + [o.colour for j, o in enumerate(t.objects) if j != k and j not in t.occluders(k)]:
        others |= matches(img, c, COLOUR_TOL)
    return bbox(pix & inside), int((pix & inside).sum()), bbox(own), bbox(touched & (~others | (cover < 0.25)))


def bbox(mask):
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def fmt(b):
    return "None" if b is None else "(" + ", ".join(f"{v:.3f}" for v in b) + ")"


def dist(a, b) -> float:
    return max(abs(x - y) for x, y in zip(a, b))


@dataclass
class Candidate:
    p: Placement
    k: int
    mapped: tuple
    box: tuple | None
    share: float

    @property
    def obj(self):
        return self.p.truth.objects[self.k]

    def name(self):
        return f"source {self.p.index} ({self.p.truth.key}) object {self.k} (class {self.obj.cls}, source box {self.obj.box})"

    def keep(self) -> bool:
        return self.box is not None and self.share >= KEEP_SHARE and min(self.box[2] - self.box[0], self.box[3] - self.box[1]) >= KEEP_SIDE + self.p.tol

    def drop(self) -> bool:
        return self.box is None or self.share < DROP_SHARE or min(self.box[2] - self.box[0], self.box[3] - self.box[1]) < DROP_SIDE - self.p.tol


def exact_tol(run: Run, w, h) -> float:
    """1e-6 px (COCO), or what a normalised YOLO row written to 1e-6 allows."""
    return 1e-6 if run.layout == "coco" else 2e-6 * max(w, h)


def match_row(run: Run, row, img, ps) -> tuple[list, list, list]:
    """Pair the row's written boxes with its sources' objects: (pairs [(OutBox, Candidate)],
    written boxes with no object, candidates)."""
    cands = [Candidate(p, k, *expected(p, k)) for p in ps for k in range(len(p.truth.objects))]
    written = run.boxes.get(row.image, [])
    options = []
    for i, b in enumerate(written):
        for j, c in enumerate(cands):
            if c.box is not None and c.obj.cls == b.cls:
                d = dist(b.box, c.box)
                if d <= MATCH_TOL + c.p.tol:
                    options.append((d, i, j))
    pairs, used_b, used_c = [], set(), set()
    for d, i, j in sorted(options):
        if i not in used_b and j not in used_c:
            used_b.add(i)
            used_c.add(j)
            pairs.append((written[i], cands[j]))
    lost = [b for i, b in enumerate(written) if i not in used_b]
    return pairs, lost, cands


def row_views(run: Run):
    """(row, image, placements) of every row of the run."""
    for row in run.df.itertuples():
        img = cv2.imread(str(run.out / row.image), cv2.IMREAD_COLOR)
        assert img is not None, row.image
        yield row, img, placements(run, row, img)


def report(run: Run, op: str, failures: list) -> str:
    head = f"{len(failures)} failure(s), mixcli {op} --layout {run.layout} {' '.join(run.args)}:\n"
    return head + "\n".join(failures[:25])


# ---------------------------------------------------------------- the fixture itself


@pytest.mark.parametrize("layout", LAYOUTS)
def test_fixture_truth_agrees_with_its_own_pixels(tmp_path, layout):
    ds = make_dataset(tmp_path / "d", layout, seed=3, label_maps=tmp_path / "maps")
    check_dataset(ds)
    again = make_dataset(tmp_path / "e", layout, seed=3, label_maps=tmp_path / "maps2")
    assert again.images == ds.images
    for a, b in ((tmp_path / "d", tmp_path / "e"), (tmp_path / "maps", tmp_path / "maps2")):
        files = {str(p.relative_to(a)): p.read_bytes() for p in a.rglob("*") if p.is_file()}
        assert len(files) >= 12 and files == {str(p.relative_to(b)): p.read_bytes() for p in b.rglob("*") if p.is_file()}


# ---------------------------------------------------------------- boxes


def check_geometry(run: Run, op: str, seen: dict | None = None) -> list[str]:
    """Every written box is the geometry rule's box of an object; every clearly visible object
    has one. seen, if given, counts the objects written whole and cut, and those dropped."""
    failures = []
    seen = {} if seen is None else seen
    for row, img, ps in row_views(run):
        h, w = img.shape[:2]
        pairs, lost, cands = match_row(run, row, img, ps)
        where = f"row {row.image} (op {row.op}, sources {row.sources})"
        for b in lost:
            near = sorted(((dist(b.box, c.box), c) for c in cands if c.box is not None and c.obj.cls == b.cls), key=lambda t: t[0])
            hint = f"; nearest: {near[0][1].name()} expected {fmt(near[0][1].box)}" if near else ""
            failures.append(f"{where}: box {fmt(b.box)} class {b.cls} is no visible object's{hint}")
        for b, c in pairs:
            tol = c.p.tol + exact_tol(run, w, h)
            if dist(b.box, c.box) > tol:
                failures.append(f"{where}: {c.name()}: expected {fmt(c.box)} (mapped {fmt(c.mapped)}), written {fmt(b.box)}")
            if c.drop():
                failures.append(f"{where}: {c.name()}: written {fmt(b.box)} but only {c.share:.3f} of it visible, box {fmt(c.box)}")
        got = {id(c) for _, c in pairs}
        for c in cands:
            kind = ("whole" if c.share > 1 - 1e-9 else "cut") if id(c) in got else "dropped"
            seen[kind] = seen.get(kind, 0) + 1
            if c.keep() and id(c) not in got:
                failures.append(f"{where}: {c.name()}: visible share {c.share:.3f}, box {fmt(c.box)}, but no box written")
        if int(row.objects) != len(run.boxes.get(row.image, [])):
            failures.append(f"{where}: objects column {row.objects}, {len(run.boxes.get(row.image, []))} boxes written")
    return failures


def check_pixels(run: Run, op: str) -> list[str]:
    """Every written box (but MixUp's, whose pixels are blends) is the bounding box of its
    object's pixels in the output: exactly, for a source at its own size; for a resized one,
    whose edges blend (or alias: cv2's INTER_AREA samples an axis that shrinks while the other
    grows), it holds every pixel of the object's colours and lies within the pixels that show
    any of it, to 1 px."""
    failures = []
    for row, img, ps in row_views(run):
        if row.op == "mixup":
            continue
        h, w = img.shape[:2]
        pairs, lost, _ = match_row(run, row, img, ps)
        where = f"row {row.image} (op {row.op}, sources {row.sources})"
        for b in lost:
            failures.append(f"{where}: box {fmt(b.box)} class {b.cls} matches no object's visible part")
        for b, c in pairs:
            got, count, own, most = footprint(img, c.p, c.k, c.mapped)
            x1, y1, x2, y2 = b.box
            if got is None:
                # a resized object's thin sliver may be all blended pixels; nothing else may be without pixels
                if c.p.exact or min(x2 - x1, y2 - y1) >= 3:
                    failures.append(f"{where}: {c.name()}: box {fmt(b.box)} written where it has no visible pixel")
                continue
            if c.p.exact:
                if dist(b.box, got) > exact_tol(run, w, h):
                    failures.append(f"{where}: {c.name()}: its pixels' bounding box {fmt(got)} ({count} px), written {fmt(b.box)}")
                continue
            inner = PIXEL_TOL + c.p.tol + exact_tol(run, w, h)
            outer = PIXEL_TOL + c.p.tol + exact_tol(run, w, h)
            if x1 > got[0] + inner or y1 > got[1] + inner or x2 < got[2] - inner or y2 < got[3] - inner:
                failures.append(f"{where}: {c.name()}: written {fmt(b.box)} leaves out some of its pixels, whose bounding box is {fmt(got)} ({count} px)")
            if most is None or x1 < most[0] - outer or y1 < most[1] - outer or x2 > most[2] + outer or y2 > most[3] + outer:
                failures.append(f"{where}: {c.name()}: written {fmt(b.box)} reaches beyond the pixels that show any of it, {fmt(most)}")
            if own is not None and (own[0] < x1 - inner or own[1] < y1 - inner or own[2] > x2 + inner or own[3] > y2 + inner):
                failures.append(f"{where}: {c.name()}: pixels of its colour at {fmt(own)} outside the box written {fmt(b.box)}")
    return failures


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_boxes_follow_the_geometry_rule(run, layout, op, case):
    r = run(layout, op, *op_args(op, case))
    assert len(r.df) >= 12
    seen = {}
    failures = check_geometry(r, op, seen)
    assert not failures, report(r, op, failures)
    assert seen.get("whole", 0) > 0
    if op not in ("mixup", "mosaic"):  # the run cuts some objects and drops others (mosaic shows every source whole)
        assert seen.get("cut", 0) > 0 and seen.get("dropped", 0) > 0, seen


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_boxes_are_the_bounding_boxes_of_the_visible_pixels(run, layout, op, case):
    r = run(layout, op, *op_args(op, case))
    failures = check_pixels(r, op)
    assert not failures, report(r, op, failures)
    if op != "mixup":  # the run has boxes to check, some of them cut
        assert sum(len(v) for v in r.boxes.values()) >= len(r.df)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", ["mixup", "mix"])
def test_mixup_keeps_every_box_of_both_sources_mapped(run, layout, op):
    r = run(layout, op, *op_args(op, "seed 0"))
    seen = 0
    for row, img, ps in row_views(r):
        if row.op != "mixup":
            continue
        seen += 1
        h, w = img.shape[:2]
        weights = [float(v) for v in row.weights.split(";")]
        assert len(ps) == 2 and weights == pytest.approx([row.lam, 1 - row.lam], abs=1e-12)
        want = sorted((p.truth.objects[k].cls, p.mapped(p.truth.objects[k].box), weights[p.index]) for p in ps for k in range(len(p.truth.objects)))
        got = sorted((b.cls, b.box, b.weight) for b in r.boxes[row.image])
        assert len(got) == len(want) == int(row.objects), (row.image, got, want)
        for (gc, gb, gw), (wc, wb, ww) in zip(got, want):
            assert gc == wc and dist(gb, wb) <= exact_tol(r, w, h), (row.image, gb, wb)
        if layout == "coco":  # weight: its source's label weight; fully visible
            for b in r.boxes[row.image]:
                src = min((dist(b.box, p.mapped(o.box)), p.index) for p in ps for o in p.truth.objects if o.cls == b.cls)[1]
                assert b.weight == pytest.approx(weights[src], abs=1e-9), (row.image, b)
                assert b.visibility == pytest.approx(1.0, abs=1e-9), (row.image, b)
    assert seen >= 4


@pytest.mark.parametrize("op", OPS)
def test_coco_annotations_carry_weight_visibility_and_area(run, op):
    r = run("coco", op, *op_args(op, "seed 0"))
    coco = r.coco
    assert [(c["id"], c["name"]) for c in coco["categories"]] == [(3, "cat"), (7, "dog"), (11, "bird")]
    assert sorted(im["file_name"] for im in coco["images"]) == sorted(r.df.image)
    assert len({im["id"] for im in coco["images"]}) == len(coco["images"])
    assert len({a["id"] for a in coco["annotations"]}) == len(coco["annotations"])
    for im in coco["images"]:
        h, w = cv2.imread(str(r.out / im["file_name"]), cv2.IMREAD_UNCHANGED).shape[:2]
        assert (im["width"], im["height"]) == (w, h), im
    failures = []
    for row, img, ps in row_views(r):
        h, w = img.shape[:2]
        weights = [float(v) for v in text(row.weights).split(";")]
        pairs, _, _ = match_row(r, row, img, ps)
        for b, c in pairs:
            bw, bh = b.box[2] - b.box[0], b.box[3] - b.box[1]
            mw, mh = c.mapped[2] - c.mapped[0], c.mapped[3] - c.mapped[1]
            # visibility: the visible area over the mapped area; a mask's or a rounded crop's edge may shift it by a pixel's row
            slack = 1e-6 if (row.op != "fmix" and c.p.tol == 0) else (c.p.tol + 1.0) * 2 * (mw + mh) / (mw * mh)
            if not (b.area == pytest.approx(bw * bh, rel=1e-6) and b.iscrowd == 0):
                failures.append(f"row {row.image}: {c.name()}: area {b.area}, iscrowd {b.iscrowd}, box {fmt(b.box)}")
            weight = weights[c.p.index] if row.op == "mixup" else 1.0  # a blended object counts by its source's weight
            if b.weight is None or abs(b.weight - weight) > 1e-9:
                failures.append(f"row {row.image} (op {row.op}): {c.name()}: weight {b.weight}, expected {weight} (source weights {weights})")
            if b.visibility is None or abs(b.visibility - c.share) > slack or not 0.1 - 1e-9 <= b.visibility <= 1 + 1e-9:
                failures.append(f"row {row.image} (op {row.op}): {c.name()}: visibility {b.visibility}, visible share {c.share:.6f}")
    assert not failures, report(r, op, failures)


@pytest.mark.parametrize("op", ["cutmix", "mosaic"])
def test_coco_output_loads_in_pycocotools(run, op):
    coco = pytest.importorskip("pycocotools.coco")
    r = run("coco", op, *op_args(op, "seed 0"))
    api = coco.COCO(str(r.out / "annotations.json"))
    by_name = {im["file_name"]: im["id"] for im in api.dataset["images"]}
    for row in r.df.itertuples():
        assert len(api.getAnnIds(imgIds=[by_name[row.image]])) == int(row.objects)
    assert sorted(api.getCatIds()) == [3, 7, 11]


@pytest.mark.parametrize("op", OPS)
def test_yolo_output_files(run, datasets, op):
    r = run("yolo", op, *op_args(op, "seed 0"))
    import yaml

    meta = yaml.safe_load((r.out / "data.yaml").read_text())
    names = meta["names"] if isinstance(meta["names"], dict) else dict(enumerate(meta["names"]))
    # OUT is the dataset: train and val its images (a path key, if any, OUT itself)
    assert (meta.get("path", "."), meta["train"], meta["val"], {int(k): v for k, v in names.items()}) == (".", "images", "images", datasets["yolo"].names)
    cols = list(r.df.columns)
    assert not any(c == "label" or c.startswith("p_") or c == "soft_label" for c in cols), cols
    for c in ("image", "op", "source_a", "source_b", "lam", "sources", "weights", "boxes", "mask", "objects"):
        assert c in cols, c
    for row in r.df.itertuples():
        keys = text(row.sources).split(";")
        assert all(k in datasets["yolo"].images for k in keys), keys  # relative to DATA/images
        assert keys[0] == row.source_a
        path = label_path(r.out, row.image, "labels", ".txt")
        assert int(row.objects) == (len(path.read_text().splitlines()) if path.exists() else 0)
    labels = {p.relative_to(r.out / "labels").with_suffix("") for p in (r.out / "labels").rglob("*.txt")}
    assert labels <= {Path(i).relative_to("images").with_suffix("") for i in r.df.image}
    assert sum(int(v) for v in r.df.objects) > 0


# ---------------------------------------------------------------- label maps


def interior(mask: np.ndarray) -> np.ndarray:
    """The pixels of mask whose 8 neighbours are in it too."""
    return cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE).astype(bool)


def expected_map(run: Run, p: Placement, h, w) -> tuple[np.ndarray, np.ndarray]:
    """MixUp's map of source p resized nearest-neighbour to the output (through --size first),
    and where that is sure whatever the nearest-neighbour convention: where the source map is
    constant within 1 source pixel of the sampled one, a pixel more for each resize."""
    m = p.truth.label_map()
    steps = []
    size = run.option("--size")
    if size and tuple(map(int, size.split("x"))) != (m.shape[1], m.shape[0]):
        steps.append(tuple(map(int, size.split("x"))))
    if (steps[-1] if steps else (m.shape[1], m.shape[0])) != (w, h):
        steps.append((w, h))
    if not steps:
        return m, np.ones((h, w), bool)
    k = np.ones((2 * len(steps) + 1,) * 2, np.uint8)
    sure = (cv2.erode(m, k, borderType=cv2.BORDER_REPLICATE) == cv2.dilate(m, k, borderType=cv2.BORDER_REPLICATE)).astype(np.uint8)
    for wh in steps:
        m = cv2.resize(m, wh, interpolation=cv2.INTER_NEAREST)
        sure = cv2.resize(sure, wh, interpolation=cv2.INTER_NEAREST)
    return m, sure.astype(bool)


def check_label_maps(run: Run, op: str) -> list[str]:
    failures = []
    for row, img, ps in row_views(run):
        h, w = img.shape[:2]
        where = f"row {row.image} (op {row.op})"
        path = label_path(run.out, row.image, "label_maps", ".png")
        lm = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if lm is None or lm.shape != (h, w) or lm.dtype != np.uint8:
            failures.append(f"{where}: label map {path} missing or not {h}x{w} uint8: {None if lm is None else (lm.shape, lm.dtype)}")
            continue
        allowed = {0, IGNORE} | {o.map_value for p in ps for o in p.truth.objects}
        if not set(np.unique(lm).tolist()) <= allowed:
            failures.append(f"{where}: values {sorted(set(np.unique(lm).tolist()) - allowed)} in the label map are no source's")
        if row.op == "mixup":  # the map of the source with the larger weight, the row's own on a tie
            weights = [float(v) for v in row.weights.split(";")]
            p = ps[0] if weights[0] >= weights[1] else ps[1]
            want, sure = expected_map(run, p, h, w)
            bad = sure & (lm != want)
            if bad.any():
                y, x = np.argwhere(bad)[0]
                failures.append(f"{where}: weights {weights}: {bad.sum()} pixels differ from source {p.index}'s map, first ({x}, {y}): {lm[y, x]} != {want[y, x]}")
            continue
        for p in ps:
            tol = 0 if p.exact else COLOUR_TOL
            named = [(p.truth.background, 0, "background")] + [(o.colour, o.map_value, f"object {k}") for k, o in enumerate(p.truth.objects)]
            for colour, value, what in named:
                pix = matches(img, colour, tol) & p.region
                if not p.exact:
                    pix = interior(pix)
                bad = pix & (lm != value)
                if bad.any():
                    y, x = np.argwhere(bad)[0]
                    failures.append(f"{where}: source {p.index} ({p.truth.key}) {what}: {bad.sum()} of {pix.sum()} of its pixels not {value} in the map, first ({x}, {y}) = {lm[y, x]}")
            if p.content is not None:  # contain's padding
                pad = rect_mask(h, w, p.cell) & ~rect_mask(h, w, p.content)
                if (lm[pad] != IGNORE).any():
                    failures.append(f"{where}: source {p.index}: padding of cell {p.cell} around {p.content} not {IGNORE} in the map")
        if row.op == "cutout":
            for rect in parse_rects(row.boxes):
                hole = rect_mask(h, w, rect)
                if (lm[hole] != IGNORE).any():
                    failures.append(f"{where}: hole {rect}: {(lm[hole] != IGNORE).sum()} pixels not {IGNORE} in the map")
    return failures


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_label_maps_follow_the_pixels(run, layout, op, case):
    r = run(layout, op, *op_args(op, case))
    failures = check_label_maps(r, op)
    assert not failures, report(r, op, failures)


def test_label_maps_change_no_box_and_are_written_only_when_asked(run):
    with_maps = run("yolo", "mosaic", "--seed", "0")
    without = run("yolo", "mosaic", "--seed", "0", maps=False)
    assert not (without.out / "label_maps").exists()
    assert (with_maps.out / "label_maps").is_dir()
    assert without.boxes == with_maps.boxes
    assert {k: v for k, v in visible_files(without.out).items() if not k.startswith("label_maps")} == \
        {k: v for k, v in visible_files(with_maps.out).items() if not k.startswith("label_maps")}


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_same_command_writes_the_same_bytes(run, layout, op):
    first = run(layout, op, *op_args(op, "seed 1, 2 copies, originals"))
    again = run(layout, op, *op_args(op, "seed 1, 2 copies, originals"), fresh=True)
    a, b = visible_files(first.out), visible_files(again.out)
    assert sorted(a) == sorted(b)
    annotated = [k for k in a if k.startswith(("labels/", "label_maps/")) or k in ("annotations.json", "data.yaml", "train.csv")]
    assert len(annotated) > 2
    assert [k for k in a if a[k] != b[k]] == []


# ---------------------------------------------------------------- --fit, --size


@pytest.mark.parametrize("fit", ["cover", "contain"])
@pytest.mark.parametrize("op", ["mosaic", "resizemix"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_fit_cover_and_contain_boxes_are_the_visible_pixels(run, layout, op, fit):
    r = run(layout, op, "--fit", fit, "--seed", "2", "--copies", "2")
    failures, contained = check_fit(r, op, fit)
    failures = check_geometry(r, op) + check_pixels(r, op) + check_label_maps(r, op) + failures
    assert not failures, report(r, op, failures)
    assert contained > 0


def check_fit(r: Run, op: str, fit: str) -> tuple[list, int]:
    """contain: a pasted source fills its cell along one side, at its aspect ratio; cover: it
    fills the whole cell (no padding). Both: an uncut object keeps its aspect ratio.
    (failures, uncut objects seen)."""
    failures, uncut = [], 0
    for row, img, ps in row_views(r):
        h, w = img.shape[:2]
        for p in ps[1:] if op == "resizemix" else ps:
            t = p.truth
            cx1, cy1, cx2, cy2 = p.cell
            if fit == "contain":
                s = min((cx2 - cx1) / t.width, (cy2 - cy1) / t.height)
                cw, ch = p.content[2] - p.content[0], p.content[3] - p.content[1]
                if abs(cw - t.width * s) > 1 or abs(ch - t.height * s) > 1:
                    failures.append(f"row {row.image}: source {p.index} ({t.key}, {t.width}x{t.height}) fills {cw}x{ch} of cell {p.cell}, expected {t.width * s:.2f}x{t.height * s:.2f}")
            else:
                mine = np.zeros((h, w), bool)
                for colour in t.colours():
                    mine |= matches(img, colour, COLOUR_TOL)
                filled = bbox(mine & rect_mask(h, w, p.cell))  # a row of blends may edge it
                if filled is None or dist(filled, p.cell) > 1:
                    failures.append(f"row {row.image}: source {p.index} ({t.key}) fills {filled} of its cell {p.cell}")
        pairs, _, _ = match_row(r, row, img, ps)
        for b, c in pairs:
            if c.share > 0.999 and (op == "mosaic" or c.p.index == 1):
                uncut += 1
                sw, sh = c.obj.box[2] - c.obj.box[0], c.obj.box[3] - c.obj.box[1]
                bw, bh = b.box[2] - b.box[0], b.box[3] - b.box[1]
                if abs(bh - bw * sh / sw) > 1:
                    failures.append(f"row {row.image}: {c.name()}: box {bw:.2f}x{bh:.2f}, source {sw}x{sh}: aspect changed")
    return failures, uncut


def test_fit_is_only_for_resizemix_and_mosaic(datasets, tmp_path):
    ds = datasets["yolo"]
    for op in ("cutmix", "mixup", "fmix", "cutout", "mix"):
        result = invoke(op, ds.root, tmp_path / op, "--layout", "yolo", "--fit", "cover")
        assert result.exit_code != 0, (op, result.output)
        assert "--fit" in result.output, result.output
        assert not (tmp_path / op / "train.csv").exists()


@pytest.mark.parametrize("op", ["cutmix", "mosaic", "cutout", "mixup"])
def test_size_resizes_sources_and_their_boxes(run, op):
    r = run("yolo", op, *OP_OPTIONS.get(op, ()), "--size", "96x80", "--seed", "4")
    for row in r.df.itertuples():
        assert cv2.imread(str(r.out / row.image)).shape[:2] == (80, 96)
    failures = check_geometry(r, op) + check_pixels(r, op) + check_label_maps(r, op)
    assert not failures, report(r, op, failures)
