"""MixUp and CutMix write what they wrote before the operation registry (tests/golden/, made by
tests/golden/make_golden.py at the last commit before the registry): same pixels and same label
columns everywhere, and the same file bytes under the OpenCV build that made the golden files
(another encoder build may write other bytes for the same pixels: that check is skipped, visibly)."""

import json
import sys
from pathlib import Path

import cv2
import pytest

from conftest import invoke_ok

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import make_golden  # noqa: E402


@pytest.fixture(scope="module")
def now() -> dict:
    return make_golden.run_all(lambda args: invoke_ok(*args))


def golden(name: str) -> dict:
    return json.loads((GOLDEN / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(make_golden.RUNS))
def test_pixels_and_columns_are_unchanged_by_the_registry(name, now):
    before = golden(name)
    assert now[name]["csv"] == before["csv"]
    assert now[name]["pixels"] == before["pixels"]


@pytest.mark.parametrize("name", sorted(make_golden.RUNS))
def test_file_bytes_are_unchanged_under_the_same_opencv(name, now):
    before = golden(name)
    if cv2.__version__ != before["opencv"]:
        pytest.skip(f"the golden files were encoded by OpenCV {before['opencv']}, this is {cv2.__version__}: file bytes not compared (pixels are)")
    assert now[name]["files"] == before["files"]
