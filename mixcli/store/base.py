"""The Store interface: a folder whose files are named by relative POSIX keys ('images/000001_cat.jpg';
'' is the folder itself). LocalStore and ObjectStore implement it."""

import io
from contextlib import contextmanager
from typing import BinaryIO, Callable, Iterator, TextIO


class Store:
    """The interface both kinds implement (see LocalStore and ObjectStore for what each does)."""

    def where(self, key: str = "") -> str:
        """How the user names the file `key`: a path, or a URL."""
        raise NotImplementedError

    def sub(self, key: str) -> "Store":
        """The store of the folder `key`."""
        raise NotImplementedError

    def parent(self) -> tuple["Store", str]:
        """The store of the folder that holds this one, and this one's key there."""
        raise NotImplementedError

    def absolute(self) -> "Store":
        """The same folder, named so that another process (another working directory) finds it."""
        return self

    def overlaps(self, other: "Store") -> bool:
        """Whether one of the two folders is, or holds, the other."""
        raise NotImplementedError

    # Looking

    def kind(self, key: str = "") -> str | None:
        """"file", "folder" or None (nothing there)."""
        raise NotImplementedError

    def exists(self, key: str = "") -> bool:
        return self.kind(key) is not None

    def is_file(self, key: str) -> bool:
        return self.kind(key) == "file"

    def is_folder(self, key: str = "") -> bool:
        return self.kind(key) == "folder"

    def is_link(self, key: str) -> bool:
        """Whether key is a symbolic link (mixcli never writes or deletes through one)."""
        return False

    def entries(self, key: str = "") -> list[tuple[str, bool]]:
        """(name, is a folder) of what is right under the folder key, sorted by name."""
        raise NotImplementedError

    def files(self, key: str = "", hidden: bool = True) -> list[str]:
        """Every file under the folder key, any depth, as keys relative to it, sorted; without
        hidden, none inside a folder, or named, with a leading dot."""
        raise NotImplementedError

    def has(self, keys: list[str]) -> list[bool]:
        """Whether each key is a file."""
        raise NotImplementedError

    # Reading

    def read(self, key: str) -> bytes:
        """The file's bytes; FileNotFoundError (an OSError) if it is not there."""
        raise NotImplementedError

    def reader(self, keys: list[str]) -> Callable[[int], bytes]:
        """read(keys[k]) as a function of k, each k asked once (OSError for a file not read)."""
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        """The file, to read as it streams in."""
        raise NotImplementedError

    def open_text(self, key: str) -> TextIO:
        """The file as UTF-8 text, newlines as written."""
        return io.TextIOWrapper(self.open(key), encoding="utf-8", newline="")

    # Writing: a file appears whole under its key, or not at all

    def write(self, key: str, data: bytes, exclusive: bool = False) -> None:
        """Write data as the file key; exclusive: FileExistsError if a file is there already."""
        raise NotImplementedError

    def write_with(self, key: str, fill: Callable[[BinaryIO], None]) -> None:
        """Write what fill(f) writes into the binary file f as the file key (fill may be called
        twice, into a second file, if a first way turns out not to work); nothing if it raises."""
        raise NotImplementedError

    def write_text_with(self, key: str, fill: Callable[[TextIO], None]) -> None:
        """write_with for text: fill(text) writes str into a UTF-8 text stream, newlines as written."""

        def binary(f) -> None:
            text = io.TextIOWrapper(f, encoding="utf-8", newline="", write_through=True)
            fill(text)
            text.detach()  # f stays open: write_with closes it

        self.write_with(key, binary)

    @contextmanager
    def batch(self) -> Iterator[Callable[[str, bytes], None]]:
        """put(key, data) for many files, each whole: a local store writes each at once, an object
        store sends them together at the end of the block (none if the block raises)."""
        yield self.write

    def append(self, log: str, name: str, data: bytes) -> None:
        """Add a record `name` (one line of data) to the log `log`."""
        raise NotImplementedError

    def records(self, log: str) -> list[bytes]:
        """Every record in the log, a record cut short by a kill left out (and out of the log)."""
        raise NotImplementedError

    def make_folder(self, key: str) -> None:
        """The folder key (and those above it) made where missing; MixcliError if a symlink is there."""

    # Deleting

    def delete(self, keys: list[str]) -> None:
        """Delete these files, those that are there."""
        raise NotImplementedError

    def delete_tree(self, key: str) -> None:
        """Delete the folder key and everything under it (or the file key), if it is there."""
        raise NotImplementedError

    def prune(self, key: str) -> None:
        """Remove the folders under the folder key that hold nothing."""

    def remove_temporaries(self, folders: list[str], nested: list[str] = ()) -> int:
        """Delete what killed writes left in these folders (and in the folders right under those
        `nested`, not through a symlink); return the count."""
        return 0
