"""Every option is declared once (mixcli.options): the CLI, mixcli.run, validation and the run
record all come from the declarations. Here: mixcli.run takes every option each command takes,
and gives what the command gives for it; text is parsed in one place."""

import json

import pytest
import typer

import mixcli
from conftest import invoke
from mixcli.cli import app
from mixcli.errors import MixcliError, UsageError
from mixcli.job import Job
from mixcli.operations import REGISTRY
from mixcli.options import declared, parse_shards, parse_size

# A value for each option, as Python gives it; the command line gets it as text (see _cli_words).
# A new option fails test_every_option_has_an_example until it has one here.
EXAMPLES = {
    "alpha": 0.4, "minmax": (0.2, 0.6), "correct_lam": False, "switch_prob": 0.3, "mixup_alpha": 0.5,
    "cutmix_alpha": 0.7, "scale_min": 0.2, "scale_max": 0.5, "offset": (0.3, 0.6), "decay_power": 2.0,
    "holes": 2, "hole_size": 0.3, "fill": 128, "fit": "contain",
    "prob": 0.5, "label_smoothing": 0.1, "copies": 2, "keep_originals": True, "seed": 3, "pairing": "balanced", "remix": (3.0, 0.5),
    "csv": "{data}/train.csv", "image_dir": "{data}/train", "layout": "csv", "image_col": "image", "label_col": "label",
    "label_sep": "|", "soft": True, "annotations": "{data}/train.csv", "label_maps": "{data}",
    "min_visibility": 0.3, "min_box_size": 3.0, "ignore_index": 0, "interpolation": "cubic",
    "size": "16x8", "fmt": "png", "quality": 80, "label_format": "sparse", "out_layout": "folders",
    "out_format": "webdataset", "samples_per_tar": 3,
    "workers": 1, "overwrite": True, "resume": True, "skip_bad": True, "dry_run": True,
    "shard_size": 32, "shards": "1/3", "num_shards": 2, "shard_index": 1, "distributor": "ray",
    "ray_address": "127.0.0.1:1", "quiet": True, "json": True,
}


def _options(op: str) -> dict[str, str]:
    """A command's options: Python name -> the flag the command line spells."""
    command = typer.main.get_command(app).commands[op]
    return {p.name: p.opts[0] for p in command.params if p.param_type_name == "option" and p.name != "help"}


def _cli_words(flag: str, value) -> list[str]:
    if value is True:
        return [flag]
    if value is False:
        return ["--no-" + flag[2:]]
    if isinstance(value, tuple):
        return [flag, *map(str, value)]
    return [flag, str(value)]


def test_every_option_has_an_example():
    names = {name for op in REGISTRY for name in _options(op)}
    assert names - set(EXAMPLES) == set(), "give the new option an example value here"
    assert names == {d.name for kind in (Job, *REGISTRY.values()) for d in declared(kind)} | {"quiet", "json"}


@pytest.mark.parametrize("op, name", [(op, name) for op in REGISTRY for name in _options(op)])
def test_run_takes_every_option_of_the_command_and_does_what_it_does(op, name, small_data, tmp_path):
    """Each option alone, in a dry run (which checks everything and writes nothing): the API's
    summary is the command's --json summary, or both refuse it with the same line."""
    value = EXAMPLES[name]
    if isinstance(value, str):
        value = value.format(data=small_data)
    flag = _options(op)[name]
    out = tmp_path / "out"
    result = invoke(op, small_data, out, "--dry-run", "--json", *([] if name in ("dry_run", "json") else _cli_words(flag, value)))
    try:
        summary = mixcli.run(op, small_data, out, **{"dry_run": True, name: value})
    except MixcliError as e:  # the option alone is refused (e.g. --soft without p_ columns): as the command refuses it
        assert result.exit_code == e.exit_code, result.output
        assert result.stderr == f"mixcli: error: {e}\n"
        return
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert {k: v for k, v in summary.items() if k != "seconds"} == {k: v for k, v in cli.items() if k != "seconds"}
    assert not out.exists()


def test_shards_and_size_are_parsed_in_one_place(small_data, tmp_path):
    """'1/3' and '256x256' mean the same from Python as on the command line, and a bad one is the same line."""
    assert parse_shards("1/3") == (1, 3) and parse_shards("all") == (None, 0) and parse_size("256x128") == (256, 128)
    job = Job.make("mixup", small_data, tmp_path / "o", shards="1/3", size="256x128")
    assert job.shards == (1, 3) and job.size == (256, 128)
    assert Job.make("mixup", small_data, tmp_path / "o", size=(256, 128)).size == (256, 128)
    summary = mixcli.run("mixup", small_data, tmp_path / "o", shards="1/3", shard_size=16, dry_run=True)
    assert summary["group"] == [1, 3]
    for bad in ({"shards": "1-3"}, {"size": "256"}):
        with pytest.raises(UsageError) as e:
            mixcli.run("mixup", small_data, tmp_path / "o", **bad)
        (name, text), = bad.items()
        result = invoke("mixup", small_data, tmp_path / "o", f"--{name}", text)
        assert result.exit_code == 2 and result.stderr == f"mixcli: error: {e.value}\n"


def test_the_run_record_holds_the_options_that_change_bytes(small_data, tmp_path):
    """run.json records exactly the options declared as changing output bytes (and every option
    of the operation), so a resume with any other value of those is refused."""
    out = tmp_path / "o"
    mixcli.run("cutmix", small_data, out, workers=1, alpha=0.5)
    options = json.loads((out / ".mixcli" / "run.json").read_text())["options"]
    changing = {d.name for d in declared(Job) if d.spec.output} | {d.name for d in declared(REGISTRY["cutmix"])} | {"op"}
    assert set(options) == changing
    assert options["alpha"] == 0.5 and options["op"] == "cutmix" and "workers" not in options
    result = invoke("cutmix", small_data, out, "--resume", "--alpha", "0.6")
    assert result.exit_code == 1 and "--alpha 0.5 then 0.6" in result.stderr


def test_an_empty_size_on_the_command_line_keeps_the_sizes(small_data, tmp_path):
    """As before the declarations: --size "" (a script's unset variable) is no --size."""
    result = invoke("mixup", small_data, tmp_path / "o", "--size", "", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) | {"seconds": 0} == mixcli.run("mixup", small_data, tmp_path / "o", dry_run=True) | {"seconds": 0}
    with pytest.raises(UsageError, match="--size must look like 256x256"):  # from Python, text must say something
        mixcli.run("mixup", small_data, tmp_path / "o", size="")


def test_places_from_python_are_text_or_paths(small_data, tmp_path):
    with pytest.raises(UsageError, match="^csv must be Path, got 1$"):
        mixcli.run("mixup", small_data, tmp_path / "o", csv=1)
    with pytest.raises(UsageError, match="^layout must be str, got "):
        mixcli.run("mixup", small_data, tmp_path / "o", layout=small_data)
    summary = mixcli.run("mixup", small_data, tmp_path / "o", csv=small_data / "train.csv", image_dir=small_data / "train", dry_run=True)
    assert summary["rows"] == 12
