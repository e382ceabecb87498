"""Where DATA and OUT live: a Store is a folder whose files are named by relative POSIX keys
('images/000001_cat.jpg'; '' is the folder itself).

Two kinds, chosen by open_store from the text the user gave: a local folder (LocalStore: atomic
writes, symlinks refused) and a prefix in an object store (ObjectStore: s3://bucket/prefix,
gs://, az://, through fsspec; requests sent together). What differs between them is said
inside each; outside this package no code asks which kind a store is.
"""

import os
import posixpath
from pathlib import Path

from ..errors import UsageError
from .base import Store
from .fs import StoreError
from .local import LocalStore
from .objects import ObjectStore

STORES = ("s3", "s3a", "gs", "gcs", "az", "abfs")  # object stores: an object is visible only once whole
__all__ = ["STORES", "LocalStore", "ObjectStore", "Store", "StoreError", "open_file", "open_store"]


def open_store(value: "str | os.PathLike") -> Store:
    """The store of a folder the user named: a path, file://PATH, or a URL of an object store."""
    text = os.fspath(value)
    if "://" not in text:
        return LocalStore(Path(text))
    protocol, rest = text.split("://", 1)
    if protocol == "file":
        return LocalStore(Path(rest))
    if protocol not in STORES:
        raise UsageError(f"{text}: mixcli reads and writes local folders and object stores ({', '.join(p + '://' for p in STORES)}), not {protocol}://")
    key = posixpath.normpath("/" + rest).strip("/")
    if not key:
        raise UsageError(f"{text}: name a bucket (and a prefix), e.g. {protocol}://bucket/data")
    return ObjectStore(protocol, key)


def open_file(value: "str | os.PathLike") -> tuple[Store, str]:
    """A file the user named, as the store of its folder and its key there."""
    return open_store(value).parent()
