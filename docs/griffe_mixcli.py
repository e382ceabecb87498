"""A griffe extension for the API reference (mkdocs.yml loads it; the site does not publish it).

mixcli's docstrings are plain text with Google-style Args/Returns/Raises sections, and their
formulas (lam*a + (1-lam)*b) would turn into Markdown emphasis, their <placeholders> into HTML
tags. And an option's help and default live in its field's declaration (mixcli.options.option),
which griffe reads as `alpha: float = alpha_option()` with no docstring. So, for mixcli only:

- a dataclass field declared as an option gets its CLI flag and help as its docstring, and its
  real default as its value (read from the imported class: the one the CLI builds its commands from);
- every docstring's `*` and `<` outside `code` are escaped, except the `*`s of a `*args` or
  `**kwargs` entry of an Args section.
"""

import dataclasses
import importlib
import re
import sys
from pathlib import Path

from griffe import Docstring, ExprCall, Extension, Object

PACKAGE = "mixcli"
CODE = re.compile(r"(`+)(?:.|\n)*?\1")  # a Markdown code span
STAR_PARAM = re.compile(r"^(\s+)(\*{1,2})(?=\w+:)", re.MULTILINE)  # "    **options: ..."


def plain(text: str) -> str:
    """text with `*` and `<` escaped outside code spans (a *args/**kwargs entry's stars kept)."""
    out, last = [], 0
    for m in CODE.finditer(text):
        out += [_escape(text[last : m.start()]), m.group(0)]
        last = m.end()
    return "".join(out + [_escape(text[last:])])


def _escape(text: str) -> str:
    text = STAR_PARAM.sub(lambda m: m.group(1) + "\0" * len(m.group(2)), text)
    text = text.replace("*", r"\*").replace("<", "&lt;")
    return text.replace("\0", "*")


class MixcliDocs(Extension):
    def on_class_members(self, *, cls, **kwargs) -> None:
        if cls.path.split(".")[0] != PACKAGE or not any("dataclass" in str(d.value) for d in cls.decorators):
            return
        if not any(isinstance(m.value, ExprCall) for m in cls.members.values() if not m.is_alias and m.is_attribute):
            return  # no field declared by a call (option(...), field(...)): nothing to read
        runtime = getattr(_import(cls.module), cls.name, None)
        if not dataclasses.is_dataclass(runtime):
            return
        from mixcli.options import declared

        for d in declared(runtime):
            attr = cls.members.get(d.name)
            if attr is None or attr.is_alias:
                continue  # inherited: documented where declared
            attr.value = repr(d.default)
            if attr.docstring is None:
                attr.docstring = Docstring(f"`{'`, `'.join(d.flags)}`: {d.spec.help}", parent=attr)

    def on_package(self, *, pkg, **kwargs) -> None:
        if pkg.name == PACKAGE:
            _walk(pkg)


def _import(module: Object):
    """The imported module griffe read, from the checkout it read it from."""
    root = str(Path(module.package.filepath).parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    runtime = importlib.import_module(module.path)
    if Path(runtime.__file__).resolve() != Path(module.filepath).resolve():
        raise ImportError(f"{module.path} was imported from {runtime.__file__}, not from {module.filepath}, which the reference documents")
    return runtime


def _walk(obj: Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = plain(obj.docstring.value)
    for member in obj.members.values():
        if not member.is_alias:
            _walk(member)
