"""mixcli preview: one contact-sheet PNG of mixed samples, nothing else written."""

import cv2
import numpy as np
import pytest

from conftest import assert_one_line_error, invoke, invoke_ok, out_files, write_dataset
from mixcli.operations import REGISTRY
from mixcli.runner.preview import LINE, TILE


@pytest.mark.parametrize("op", list(REGISTRY))
def test_preview_writes_one_png_and_nothing_else(op, small_data, tmp_path):
    before = out_files(tmp_path)
    target = tmp_path / "sheet.png"
    result = invoke_ok("preview", small_data, "--op", op, "-n", 4, "-o", target, "--seed", 3)
    after = out_files(tmp_path)
    assert set(after) - set(before) == {"sheet.png"}
    assert all(after[k] == v for k, v in before.items())
    sheet = cv2.imread(str(target))
    lines = 1 + (REGISTRY[op].sources + 1) // 2  # the op's name, then two sources a line
    # 4 samples: 2 x 2 tiles of TILE px and a caption each, 4 px apart.
    assert sheet.shape == (2 * (TILE + LINE * lines + 6 + 4) + 4, 2 * (TILE + 4) + 4, 3)
    assert f"4 {op} samples" in result.stderr


def test_preview_tiles_are_the_mixed_images(tmp_path):
    # 256x256 sources are shown at their own size: each tile's picture is the painted row,
    # which with a plain black and a plain white image (each the other's partner) is a blend.
    data = tmp_path / "d"
    (data / "train").mkdir(parents=True)
    for k, v in enumerate([0, 255]):
        cv2.imwrite(str(data / "train" / f"{k}.png"), np.full((TILE, TILE, 3), v, np.uint8))
    (data / "train.csv").write_text("image,label\n0.png,0\n1.png,1\n")
    target = tmp_path / "p.png"
    invoke_ok("preview", data, "--op", "mixup", "-n", 2, "-o", target, "--alpha", 1.0, "--seed", 4)
    sheet = cv2.imread(str(target))
    shades = []
    for c in range(2):
        y, x = 4, 4 + c * (TILE + 4)
        picture = sheet[y : y + TILE, x : x + TILE]
        assert len(np.unique(picture)) == 1  # a uniform blend
        shades.append(int(picture[0, 0, 0]))
    assert all(0 < v < 255 for v in shades) and shades[0] != shades[1], shades


def test_preview_takes_the_operations_options_and_checks_them(small_data, tmp_path):
    target = tmp_path / "p.png"
    result = invoke_ok("preview", small_data, "--op", "cutout", "-o", target, "--holes", 2, "--fill", 128)
    assert_one_line_error(invoke("preview", small_data, "--op", "cutout", "-o", target, "--holes", 0), 2, "--holes must be >= 1")
    result = invoke("preview", small_data, "--op", "cutout", "-o", target, "--alpha", 0.5)
    assert result.exit_code == 2 and "No such option: --alpha" in result.stderr  # mixup's option, not cutout's (Click's usage message)
    result = invoke("preview", small_data, "--op", "nope", "-o", target)
    assert result.exit_code == 2 and "Invalid value for --op" in result.stderr and "got 'nope'" in result.stderr


def test_preview_of_more_samples_than_rows_shows_every_row(tmp_path):
    data = write_dataset(tmp_path / "d", [(20, 30)] * 5, [0, 1, 0, 1, 0])
    result = invoke_ok("preview", data, "--op", "mosaic", "-n", 9, "-o", tmp_path / "p.png")
    assert "5 mosaic samples" in result.stderr


def test_preview_of_a_bad_dataset_is_one_line(tmp_path):
    assert_one_line_error(invoke("preview", tmp_path, "--op", "mixup", "-o", tmp_path / "p.png"), 1, f"no CSV at {tmp_path / 'train.csv'}")
    assert not (tmp_path / "p.png").exists()
