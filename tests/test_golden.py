"""MixUp and CutMix write what they wrote before the operation registry (tests/golden/, made by
tests/golden/make_golden.py at the last commit before the registry): same pixels, same label
columns, and the same file bytes under the OpenCV build that made the golden files."""

import json
import sys
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import make_golden  # noqa: E402

from mixcli.cli import app  # noqa: E402


def _cli_run(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def now() -> dict:
    return make_golden.run_all(_cli_run)


@pytest.mark.parametrize("name", sorted(make_golden.RUNS))
def test_outputs_are_unchanged_by_the_registry(name, now):
    before = json.loads((GOLDEN / f"{name}.json").read_text())
    assert now[name]["csv"] == before["csv"]
    assert now[name]["pixels"] == before["pixels"]
    if cv2.__version__ == before["opencv"]:
        assert now[name]["files"] == before["files"]
