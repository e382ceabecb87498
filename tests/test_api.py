"""mixcli's Python API (mixcli/api.py): mixup, cutmix and mix_targets against the documented
formulas on both kernel paths, and run() against the command line, byte for byte."""

import json
import subprocess
import sys

import numpy as np
import pytest

import mixcli
from conftest import invoke_ok, out_files
from mixcli.pixels import checked as ops
from mixcli.errors import MixcliError, UsageError
from mixcli.pixels.codec import resize

SHAPES = [(23, 41), (23, 41, 1), (23, 41, 3), (23, 41, 4)]  # non-square: H rows, W columns


@pytest.fixture(params=["numba", "numpy"])
def path(request, monkeypatch):
    """Run the test through the numba kernels, then through their NumPy twins."""
    monkeypatch.setattr(ops, "_kernels", ops.load_kernels() if request.param == "numba" else None)
    return request.param


def images(shape, seed=0, b_shape=None):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 256, b_shape or shape, dtype=np.uint8)


def ref_mixup(a, b, lam):
    """The CLI's blend: float32, rounded half up."""
    wa = np.float32(lam)
    return (a.astype(np.float32) * wa + b.astype(np.float32) * (np.float32(1) - wa) + np.float32(0.5)).astype(np.uint8)


# mixup


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("lam", [0.0, 0.5, 0.3141, 0.999, 1.0])
def test_mixup_is_the_cli_formula(path, shape, lam):
    a, b = images(shape)
    a0, b0 = a.copy(), b.copy()
    out = mixcli.mixup(a, b, lam)
    assert out.dtype == np.uint8 and out.shape == shape
    np.testing.assert_array_equal(out, ref_mixup(a, b, lam))
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    assert out is not a and out is not b


def test_mixup_takes_non_contiguous_and_read_only_inputs(path):
    a, b = images((40, 60, 3))
    a_view, b_view = a[::2, ::-2], b[::2, 1::2]
    b_view.flags.writeable = False
    out = mixcli.mixup(a_view, b_view, 0.25)
    np.testing.assert_array_equal(out, ref_mixup(np.ascontiguousarray(a_view), np.ascontiguousarray(b_view), 0.25))


@pytest.mark.parametrize("shape, b_shape", [((23, 41), (50, 17)), ((23, 41, 1), (9, 70, 1)), ((23, 41, 3), (61, 80, 3)), ((23, 41, 4), (10, 12, 4))])
def test_mixup_resizes_b_to_a(path, shape, b_shape):
    a, b = images(shape, b_shape=b_shape)
    b0 = b.copy()
    expected_b = resize(b, (shape[1], shape[0])).reshape(shape)  # the CLI's resize of a partner
    np.testing.assert_array_equal(mixcli.mixup(a, b, 0.4), ref_mixup(a, expected_b, 0.4))
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("b_shape", [(11, 13, 6), (60, 90, 6)])
def test_mixup_resizes_many_channels_channel_by_channel(path, b_shape):
    a, b = images((23, 41, 6), b_shape=b_shape)
    expected_b = np.dstack([resize(np.ascontiguousarray(b[..., k]), (41, 23)) for k in range(6)])
    np.testing.assert_array_equal(mixcli.mixup(a, b, 0.6), ref_mixup(a, expected_b, 0.6))


@pytest.mark.parametrize(
    "a, b, lam, words",
    [
        (np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8), 0.5, "a must be a uint8"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.int64), 0.5, "b must be a uint8"),
        (np.zeros((1, 4, 4, 3), np.uint8), np.zeros((1, 4, 4, 3), np.uint8), 0.5, "HxW or HxWxC"),
        (np.zeros((0, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), 0.5, "no empty side"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 4), np.uint8), 0.5, "same channels"),
        (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 1), np.uint8), 0.5, "same channels"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), 1.5, "lam must be in [0, 1]"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), float("nan"), "lam must be in [0, 1]"),
    ],
)
def test_bad_images_and_lam_are_value_errors(a, b, lam, words):
    for call in (lambda: mixcli.mixup(a, b, lam), lambda: mixcli.cutmix(a, b, lam, 0)):
        with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
            call()


# cutmix


def distinct_images(shape, seed=0, b_shape=None):
    """a in 0..99, b in 200..255: every output pixel says where it came from."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 100, shape, dtype=np.uint8), rng.integers(200, 256, b_shape or shape, dtype=np.uint8)


def assert_cutmix(a, b, result):
    """b's pixels inside the box, a's outside; the box inside the image."""
    h, w = a.shape[:2]
    x1, y1, x2, y2 = result.box
    assert all(isinstance(v, int) for v in result.box)
    assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h
    inside = np.zeros((h, w), bool)
    inside[y1:y2, x1:x2] = True
    np.testing.assert_array_equal(result.image[inside], b[inside])
    np.testing.assert_array_equal(result.image[~inside], a[~inside])
    return (x2 - x1) * (y2 - y1)


@pytest.mark.parametrize("shape", SHAPES)
def test_cutmix_pastes_b_in_the_box_and_corrects_lam(path, shape):
    a, b = distinct_images(shape)
    a0, b0 = a.copy(), b.copy()
    lams = np.random.default_rng(1).beta(1.0, 1.0, 40)
    for seed, lam in enumerate(lams):
        result = mixcli.cutmix(a, b, lam, seed)
        box_area = assert_cutmix(a, b, result)
        assert result.lam == pytest.approx(1 - box_area / (shape[0] * shape[1]), abs=1e-12)
        image, drawn, box = mixcli.cutmix(a, b, lam, seed, correct_lam=False)
        np.testing.assert_array_equal(image, result.image)
        assert drawn == lam and box == result.box
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_cutmix_boxes_cover_the_image_and_get_clipped():
    a, b = distinct_images((30, 50, 3))
    boxes = [mixcli.cutmix(a, b, 0.3, seed).box for seed in range(200)]
    assert min(x1 for x1, _, _, _ in boxes) == 0 and max(x2 for _, _, x2, _ in boxes) == 50
    assert min(y1 for _, y1, _, _ in boxes) == 0 and max(y2 for _, _, _, y2 in boxes) == 30
    assert any((x2 - x1, y2 - y1) != (int(50 * 0.3**0.5), int(30 * 0.3**0.5)) for x1, y1, x2, y2 in boxes)  # clipped


def test_cutmix_same_rng_same_result_other_rng_other_result():
    a, b = distinct_images((40, 64, 3))
    first = mixcli.cutmix(a, b, 0.5, 7)
    again = mixcli.cutmix(a, b, 0.5, np.random.default_rng(7))
    np.testing.assert_array_equal(first.image, again.image)
    assert (first.lam, first.box) == (again.lam, again.box)
    others = {mixcli.cutmix(a, b, 0.5, seed).box for seed in range(8, 20)}
    assert others - {first.box}
    rng = np.random.default_rng(7)  # a generator goes on: successive calls differ
    assert {mixcli.cutmix(a, b, 0.5, rng).box for _ in range(10)} != {first.box}


@pytest.mark.parametrize("lo, hi", [(0.2, 0.5), (0.5, 0.5), (0.1, 1.0)])
def test_cutmix_minmax_sides_in_range_and_lam_always_corrected(path, lo, hi):
    h, w = 37, 61
    a, b = distinct_images((h, w, 3))
    for seed in range(60):
        result = mixcli.cutmix(a, b, 0.9, seed, minmax=(lo, hi), correct_lam=False)
        box_area = assert_cutmix(a, b, result)
        x1, y1, x2, y2 = result.box
        assert int(h * lo) <= y2 - y1 <= int(h * hi) and int(w * lo) <= x2 - x1 <= int(w * hi)
        assert result.lam == pytest.approx(1 - box_area / (h * w), abs=1e-12)


def test_cutmix_resizes_b_to_a(path):
    a, b = distinct_images((23, 41, 3), b_shape=(50, 30, 3))
    result = mixcli.cutmix(a, b, 0.2, 3)
    assert_cutmix(a, resize(b, (41, 23)), result)


def test_cutmix_refuses_bad_minmax_and_rng():
    a, b = distinct_images((8, 8, 3))
    with pytest.raises(ValueError, match="minmax"):
        mixcli.cutmix(a, b, 0.5, 0, minmax=(0.0, 0.5))
    with pytest.raises(ValueError, match="minmax"):
        mixcli.cutmix(a, b, 0.5, 0, minmax=(0.6, 0.5))
    with pytest.raises(TypeError, match="rng"):
        mixcli.cutmix(a, b, 0.5, "seed")


# mix_targets


def test_mix_targets_values():
    y_a, y_b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.2, 0.8])
    np.testing.assert_allclose(mixcli.mix_targets(y_a, y_b, 0.25), [0.25, 0.15, 0.6])
    batch_a, batch_b = np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32)[[1, 2, 0]]
    lam = np.array([1.0, 0.5, 0.0])
    out = mixcli.mix_targets(batch_a, batch_b, lam)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[1, 0, 0], [0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_allclose(mixcli.mix_targets(batch_a, batch_b, 0.75), 0.75 * batch_a + 0.25 * batch_b)


def test_mix_targets_from_class_indices():
    np.testing.assert_allclose(mixcli.mix_targets(1, 3, 0.7, num_classes=4), [0, 0.7, 0, 0.3])
    out = mixcli.mix_targets([0, 2], [2, 2], [0.5, 0.1], num_classes=3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.5, 0, 0.5], [0, 0, 1]])


@pytest.mark.parametrize(
    "y_a, y_b, lam, kw, words",
    [
        (np.array([0, 1]), np.array([1, 0]), 0.5, {}, "num_classes"),
        (np.zeros(3), np.zeros(4), 0.5, {}, "of one shape"),
        (np.zeros(3), np.zeros(3), 1.2, {}, r"lam must be in \[0, 1\]"),
        (np.zeros((2, 3)), np.zeros((2, 3)), [0.5, 0.5, 0.5], {}, "one per target row"),
        (3, 0, 0.5, {"num_classes": 3}, "outside 0..2"),
        (np.array([0.5]), np.array([0]), 0.5, {"num_classes": 3}, "class index"),
    ],
)
def test_mix_targets_refuses(y_a, y_b, lam, kw, words):
    with pytest.raises(ValueError, match=words):
        mixcli.mix_targets(y_a, y_b, lam, **kw)


# run


def cli_args(options: dict) -> list[str]:
    """The command-line spelling of run()'s options."""
    args = []
    for name, value in options.items():
        option = "--format" if name == "fmt" else "--" + name.replace("_", "-")
        if value is True:
            args.append(option)
        elif value is False:
            args.append("--no-" + option[2:])
        elif name == "size":
            args += [option, f"{value[0]}x{value[1]}"]
        elif isinstance(value, tuple):
            args += [option, *map(str, value)]
        else:
            args += [option, str(value)]
    return args


@pytest.mark.parametrize(
    "op, options",
    [
        ("mixup", {"alpha": 1, "fmt": "png", "seed": 1}),  # an int alpha: recorded as the CLI's 1.0
        ("cutmix", {"alpha": 0.5, "minmax": (0.2, 0.6), "correct_lam": False, "prob": 0.7, "size": (32, 24), "fmt": "png", "seed": 3, "workers": 2}),
        ("mix", {"switch_prob": 0.3, "label_smoothing": 0.1, "copies": 2, "keep_originals": True, "quality": 80}),
        ("mosaic", {"offset": (0.3, 0.6), "fmt": "png", "seed": 5}),
        ("fmix", {"decay_power": 2.0, "fmt": "png", "workers": 1}),
    ],
)
def test_run_writes_the_cli_bytes(small_data, tmp_path, op, options):
    summary = mixcli.run(op, small_data, tmp_path / "api", **options)
    result = invoke_ok(op, small_data, tmp_path / "cli", "--json", "-q", *cli_args(options))
    api_files, cli_files = out_files(tmp_path / "api"), out_files(tmp_path / "cli")
    assert api_files.keys() == cli_files.keys()
    assert [k for k in api_files if api_files[k] != cli_files[k]] == []
    cli_summary = json.loads(result.stdout)
    ignore = {"seconds", "out", "csv"}
    assert {k: v for k, v in summary.items() if k not in ignore} == {k: v for k, v in cli_summary.items() if k not in ignore}
    assert summary["out"] == str(tmp_path / "api")
    assert summary["rows"] == 12 * (options.get("copies", 1) + options.get("keep_originals", False))


def test_run_is_quiet_by_default_and_takes_size_as_text(small_data, tmp_path, capfd):
    summary = mixcli.run("cutout", str(small_data), str(tmp_path / "o"), size="16x8", holes=2)
    assert summary["rows"] == 12 and summary["cutout"] == 12
    assert capfd.readouterr() == ("", "")
    assert json.loads((tmp_path / "o" / ".mixcli" / "run.json").read_text())["options"]["size"] == [16, 8]


@pytest.mark.parametrize(
    "op, options, words",
    [
        ("mixupp", {}, "unknown operation"),
        ("mixup", {"minmax": (0.1, 0.2)}, "no option minmax"),
        ("mixup", {"loud": True}, "no option loud"),
        ("mixup", {"prob": 2.0}, "--prob"),
        ("cutmix", {"minmax": (0.5, 0.1)}, "--minmax"),
        ("mixup", {"seed": "1"}, "seed must be int"),
        ("mixup", {"alpha": "0.2"}, "alpha must be float"),
        ("mixup", {"seed": 1.0}, "seed must be int"),
        ("mosaic", {"offset": 0.5}, "offset must be a pair"),
        ("mixup", {"size": "big"}, "--size"),
        ("mixup", {"overwrite": "yes"}, "overwrite must be bool"),
    ],
)
def test_run_refuses_bad_options_before_writing(small_data, tmp_path, op, options, words):
    with pytest.raises(UsageError, match=words):
        mixcli.run(op, small_data, tmp_path / "o", **options)
    assert not (tmp_path / "o").exists()


def test_run_missing_csv_is_a_mixcli_error(tmp_path):
    with pytest.raises(MixcliError, match="no CSV") as info:
        mixcli.run("mixup", tmp_path, tmp_path / "o")
    assert not isinstance(info.value, UsageError)
    assert not (tmp_path / "o").exists()


# import


def test_import_mixcli_is_light_and_the_api_loads_on_use():
    code = (
        "import sys, mixcli\n"
        "heavy = [m for m in ('numpy', 'cv2', 'numba', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert {'mixup', 'cutmix', 'mix_targets', 'run'} <= set(mixcli.__all__) & set(dir(mixcli))\n"
        "import numpy as np\n"
        "a = np.zeros((4, 6, 3), np.uint8); b = np.full((4, 6, 3), 255, np.uint8)\n"
        "assert (mixcli.mixup(a, b, 0.5) == 128).all()\n"
        "from mixcli import cutmix, mix_targets\n"
        "assert cutmix(a, b, 0.5, 0).image.shape == a.shape\n"
        "assert mix_targets(0, 1, 0.5, num_classes=2).tolist() == [0.5, 0.5]\n"
        "try:\n    mixcli.nothing\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit('no AttributeError')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
