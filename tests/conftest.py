"""Shared fixtures: small datasets of real files written in tmp_path."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from mixcli.pixels.codec import read_image

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"


def write_dataset(root: Path, shapes, labels, ext=".png", csv_rows=None, seed=0, layout="train") -> Path:
    """Write random images of the given (h, w) shapes and a train.csv; return DATA.

    layout "train": DATA/train.csv beside DATA/train/; "flat": images beside the CSV.
    """
    rng = np.random.default_rng(seed)
    data = root
    img_dir = data / "train" if layout == "train" else data
    img_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for k, (h, w) in enumerate(shapes):
        name = f"img{k:03d}{ext}"
        cv2.imwrite(str(img_dir / name), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        names.append(name)
    rows = csv_rows if csv_rows is not None else list(zip(names, labels))
    (data / "train.csv").write_text("image,label\n" + "".join(f"{n},{l}\n" for n, l in rows))
    return data


@pytest.fixture(scope="session", autouse=True)
def kernels_loaded():
    """Load numba once, up front, so small test runs use the kernels too (they would use the NumPy
    twins; test_kernels and test_pipeline check that both give the same bytes)."""
    from mixcli.pixels import checked as ops

    ops.load_kernels()


@pytest.fixture
def small_data(tmp_path) -> Path:
    """12 PNG images of mixed, non-square sizes in 3 int classes, Kaggle layout."""
    shapes = [(24, 40), (40, 24), (17, 33), (32, 32), (9, 50), (50, 9)] * 2
    return write_dataset(tmp_path / "data", shapes, [k % 3 for k in range(12)])


def load(path: Path) -> np.ndarray:
    return read_image(path)


def invoke(*args, env=None, input=None):
    """`mixcli ARGS` through Typer's test runner (arguments may be Paths or numbers)."""
    from typer.testing import CliRunner

    from mixcli.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env=env, input=input)


def visible_files(out: Path) -> dict[str, bytes]:
    """OUT as one machine writes it: every file but the hidden record under OUT/.mixcli."""
    return {k: v for k, v in out_files(out).items() if not k.startswith(".mixcli")}


def out_files(out: Path) -> dict[str, bytes]:
    """Every file under OUT but the shards' stats (their seconds differ from run to run)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and not (p.parent.name == "shards" and p.suffix == ".json")}
