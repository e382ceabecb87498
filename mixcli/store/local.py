"""A local folder as a Store: files written whole (mixcli.store.atomic), never through a symlink.

Keys are joined to the folder as pathlib joins them, so a key that is an absolute path names
that path (a CSV may list images anywhere); mixcli's own keys are plain relative paths.
"""

import os
import shutil
from pathlib import Path

from ..errors import MixcliError
from .atomic import create, is_temporary, write_atomic, write_with
from .base import Store


class LocalStore(Store):
    def __init__(self, root: Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, LocalStore) and self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)

    def path(self, key: str = "") -> Path:
        return self.root / key if key else self.root

    def where(self, key: str = "") -> str:
        return str(self.path(key))

    def sub(self, key: str) -> "LocalStore":
        return LocalStore(self.path(key))

    def parent(self) -> tuple["LocalStore", str]:
        return LocalStore(self.root.parent), self.root.name

    def absolute(self) -> "LocalStore":
        return LocalStore(self.root.resolve())

    def overlaps(self, other: Store) -> bool:
        if not isinstance(other, LocalStore):
            return False
        a, b = self.root.resolve(), other.root.resolve()
        return a == b or a in b.parents or b in a.parents

    def kind(self, key: str = "") -> str | None:
        p = self.path(key)
        return "folder" if p.is_dir() else "file" if p.exists() else None

    def is_link(self, key: str) -> bool:
        return self.path(key).is_symlink()

    def entries(self, key: str = "") -> list[tuple[str, bool]]:
        folder = self.path(key)
        return [(p.name, p.is_dir()) for p in sorted(folder.iterdir())] if folder.is_dir() else []

    def files(self, key: str = "", hidden: bool = True) -> list[str]:
        """A symlink to a folder below key is listed as a file: it is not walked into (nor deleted through)."""
        top = self.path(key)
        if not top.is_dir():
            return []
        found = []
        for here, dirs, names in os.walk(top):
            if not hidden:
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                names = [n for n in names if not n.startswith(".")]
            linked = [d for d in dirs if os.path.islink(os.path.join(here, d))]
            rel = os.path.relpath(here, top)
            found += [name if rel == "." else f"{rel}/{name}".replace(os.sep, "/") for name in names + linked]
        return sorted(found)

    def has(self, keys: list[str]) -> list[bool]:
        return [os.path.isfile(os.path.join(self.root, key)) for key in keys]

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def reader(self, keys: list[str]):
        return lambda k: self.path(keys[k]).read_bytes()

    def open(self, key: str):
        return open(self.path(key), "rb")

    def write(self, key: str, data: bytes, exclusive: bool = False) -> None:
        if exclusive:
            create(self.path(key), data)
        else:
            write_atomic(self.path(key), data)

    def write_with(self, key: str, fill) -> None:
        write_with(self.path(key), fill)

    def append(self, log: str, name: str, data: bytes) -> None:
        """The log is a file of lines: a line's write is one append (records are small)."""
        with open(self.path(log), "ab") as f:
            f.write(data + b"\n")

    def records(self, log: str) -> list[bytes]:
        path = self.path(log)
        if not path.is_file():
            return []
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):  # a line cut short by a kill: gone, so the next append starts a line
            data = data[: data.rfind(b"\n") + 1]
            write_atomic(path, data)
        return data.splitlines()

    def make_folder(self, key: str) -> None:
        path = self.path(key)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MixcliError(f"cannot create {path}: {e.strerror}") from None
        if path.is_symlink() or not path.is_dir():
            raise MixcliError(f"{path} is not a plain folder: refusing to write through it")

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def delete_tree(self, key: str) -> None:
        path = self.path(key)
        if path.is_file() or path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)

    def prune(self, key: str) -> None:
        top = self.path(key)
        if not top.is_dir() or top.is_symlink():
            return
        for here, _, _ in os.walk(top, topdown=False):
            if here != str(top) and not os.listdir(here):
                os.rmdir(here)

    def remove_temporaries(self, folders: list[str], nested: list[str] = ()) -> int:
        inner = [p for top in map(self.path, nested) if top.is_dir() for p in top.iterdir() if p.is_dir() and not p.is_symlink()]
        count = 0
        for folder in [*map(self.path, folders), *inner]:
            if folder.is_dir():
                for p in folder.iterdir():
                    if is_temporary(p.name) and not p.is_dir():
                        p.unlink(missing_ok=True)
                        count += 1
        return count
