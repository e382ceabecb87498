"""Rebuild tests/golden/*.json: what mixcli mixup/cutmix wrote before the operation registry.

    python tests/golden/make_golden.py

The inputs are lossless PNGs computed from a formula (no random generator), so the same
pixels come in on every machine. Each golden file records, per run, the output CSV's columns
as they stood before the registry, a digest of every output's decoded pixels, and the
output files' own digests with the OpenCV version that encoded them (compared only under that
version: another encoder build may write other bytes for the same pixels).
"""

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
# Columns of train.csv before the registry appended sources, weights, boxes and mask.
OLD_COLUMNS = 13  # image,label,p_0,p_1,p_2,op,source_a,source_b,lam,x1,y1,x2,y2 (3 classes)
SHAPES = [(24, 40), (24, 40), (40, 24), (24, 40), (31, 17), (24, 40)] * 4
RUNS = {
    "mixup": ["mixup", "--alpha", "0.4", "--prob", "0.7", "--seed", "3", "--format", "png"],
    "cutmix": ["cutmix", "--prob", "0.8", "--seed", "5", "--format", "png"],
    "cutmix_minmax": ["cutmix", "--minmax", "0.2", "0.7", "--seed", "6", "--format", "png"],
    "cutmix_drawn_lam_jpg": ["cutmix", "--no-correct-lam", "--seed", "8", "--size", "20x16"],
    "mixup_smooth_jpg": ["mixup", "--alpha", "0.2", "--label-smoothing", "0.1", "--seed", "9", "--quality", "90"],
}


def write_inputs(data: Path) -> Path:
    """24 PNG images of 3 sizes in 3 classes, pixels from a formula, DATA/train.csv + DATA/train/."""
    (data / "train").mkdir(parents=True)
    rows = []
    for k, (h, w) in enumerate(SHAPES):
        y, x, c = np.indices((h, w, 3))
        img = ((y * (7 + k) + x * (13 + 2 * k) + c * 85 + k * 31) % 256).astype(np.uint8)
        name = f"g{k:02d}.png"
        cv2.imwrite(str(data / "train" / name), img)
        rows.append(f"{name},{k % 3}\n")
    (data / "train.csv").write_text("image,label\n" + "".join(rows))
    return data


def describe(out: Path) -> dict:
    """The golden record of one output folder."""
    lines = (out / "train.csv").read_text().splitlines()
    import csv

    old_csv = ["\x1f".join(row[:OLD_COLUMNS]) for row in csv.reader(lines)]
    images = sorted((out / "images").iterdir())
    pixels = {p.name: hashlib.sha256(cv2.imread(str(p), cv2.IMREAD_UNCHANGED).tobytes()).hexdigest() for p in images}
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in images}
    return {"csv": old_csv, "pixels": pixels, "files": files, "opencv": cv2.__version__}


def run_all(mixcli_run) -> dict:
    """mixcli_run(args) runs one mixcli command; returns {run name: record}."""
    with tempfile.TemporaryDirectory() as tmp:
        data = write_inputs(Path(tmp) / "data")
        records = {}
        for name, args in RUNS.items():
            out = Path(tmp) / name
            mixcli_run([args[0], str(data), str(out), "-q", *args[1:]])
            records[name] = describe(out)
        return records


def _cli_run(args: list[str]) -> None:
    from typer.testing import CliRunner

    from mixcli.cli import app

    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        sys.exit(result.output)


if __name__ == "__main__":
    for name, record in run_all(_cli_run).items():
        (HERE / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"wrote {HERE / name}.json")
