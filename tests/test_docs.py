"""The documentation site (mkdocs.yml over docs/, the API reference generated from the docstrings)
builds with `mkdocs build --strict`: a broken link or anchor, a page left out of the nav, a
docstring griffe cannot read or an API name that no longer exists fails the test."""

import ast
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("material", reason="the docs test needs mkdocs-material (pip install '.[test]')")
pytest.importorskip("mkdocstrings_handlers.python", reason="the docs test needs mkdocstrings[python] (pip install '.[test]')")

REPO = Path(__file__).resolve().parent.parent


def build(site: Path, config: Path = REPO / "mkdocs.yml") -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of config into site, run from the repository root."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's banner about MkDocs 2.0
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def text(page: Path) -> str:
    """A built page's text: tags dropped, entities read, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())


def words(s: str) -> str:
    """A docstring line as the page shows it: Markdown's backticks gone, white space collapsed."""
    return " ".join(s.replace("`", " ").split())


def test_the_site_builds_strict_with_every_page_and_the_api_reference(tmp_path):
    site = tmp_path / "site"
    result = build(site)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    # Every page of docs/ was built (--strict already refuses one missing from the nav).
    pages = sorted((REPO / "docs").rglob("*.md"))
    assert len(pages) >= 13
    for md in pages:
        rel = md.relative_to(REPO / "docs").with_suffix("")
        built = site / ("index.html" if rel == Path("index") else rel / "index.html")
        assert built.is_file(), f"{md} was not built"

    # The reference holds mixcli.run's docstring, read from the code.
    module = ast.parse((REPO / "mixcli" / "api.py").read_text())
    run = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "run")
    first_line = ast.get_docstring(run).splitlines()[0]
    assert words(first_line) in text(site / "reference" / "api" / "index.html")

    # Every registered operation is on the operations page, each option with its help.
    from mixcli.operations import REGISTRY
    from mixcli.options import declared

    ops_page = site / "reference" / "operations" / "index.html"
    source, shown = ops_page.read_text(), text(ops_page)
    for op in REGISTRY.values():
        assert f'id="{op.__module__}.{op.__qualname__}"' in source, f"{op.__name__} is missing from docs/reference/operations.md"
        for d in declared(op):
            assert words(d.spec.help) in shown, f"{op.__name__}.{d.name}'s help is not on the operations page"

    # Every image a page shows (the preview sheets) was copied where the page points.
    for page in site.rglob("*.html"):
        for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', page.read_text()):
            if "://" not in src and not src.startswith("data:"):
                assert (page.parent / src).is_file(), f"{page.relative_to(site)} shows {src}, which is not there"


def copy_of_the_docs(tmp_path: Path) -> Path:
    """docs/ and mkdocs.yml copied into tmp_path; the copy's mkdocs.yml."""
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    return tmp_path / "mkdocs.yml"


@pytest.mark.parametrize(
    "page, added, expected",
    [
        (
            "index.md",
            "\nSee [the layouts](input.md#no-such-heading) and [the rest](no-such-page.md).\n",
            ["'input.md#no-such-heading'", "'no-such-page.md'"],
        ),
        ("reference/api.md", "\n::: mixcli.no_such_name\n", ["mixcli.no_such_name"]),
    ],
    ids=["broken-link-and-anchor", "stale-api-name"],
)
def test_the_strict_build_fails_on_a_broken_link_or_a_stale_api_name(tmp_path, page, added, expected):
    config = copy_of_the_docs(tmp_path)
    with open(tmp_path / "docs" / page, "a") as f:
        f.write(added)
    result = build(tmp_path / "site", config)
    assert result.returncode != 0, result.stdout[-3000:] + result.stderr[-5000:]
    for message in expected:
        assert message in result.stderr, result.stderr[-5000:]
