"""The house rules the code keeps: the layers of .importlinter (one-way imports, no import circle),
checked with import-linter, and modules small enough to hold one concern each."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_imports_keep_the_layers_and_make_no_circle():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (it is in the test extras: pip install '.[test]')")
    result = subprocess.run([str(lint), "--config", str(REPO / ".importlinter")], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(REPO)): n for p in (REPO / "mixcli").rglob("*.py") if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}, "a module over 300 lines holds two concerns: split it"


def test_the_cli_imports_nothing_heavy():
    code = "import sys, mixcli.cli\nheavy = [m for m in ('numpy', 'cv2', 'numba', 'pandas', 'fsspec') if m in sys.modules]\nassert not heavy, heavy"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_docs_architecture_names_every_option():
    """docs/architecture.md says, for every option, where it is declared and where it is read."""
    from mixcli.job import Job, Messages
    from mixcli.operations import REGISTRY
    from mixcli.options import declared

    page = (REPO / "docs" / "architecture.md").read_text()
    table = page[page.index("| option | declared in | read by |") :]
    flags = {d.flag for kind in (Job, Messages, *REGISTRY.values()) for d in declared(kind)}
    assert {f for f in flags if f"`{f}`" not in table} == set()
