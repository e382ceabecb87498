"""fsspec's side of an object store: its file systems, requests sent together, and its failures as one line."""

import io
import os

from ..errors import MixcliError

_EXTRA = {"s3": "s3fs (pip install 'mixcli[s3]')", "s3a": "s3fs (pip install 'mixcli[s3]')", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}
_filesystems: dict = {}
# s3fs: an object read with one GET, not a HEAD for its size first (to fetch big ones in parallel
# parts); more connections than botocore's 10, as every worker sends a chunk's requests at once.
_S3 = {"max_concurrency": 1, "config_kwargs": {"max_pool_connections": 128}}
_OPTIONS = {"s3": _S3, "s3a": _S3}


class StoreError(MixcliError):
    """The object store failed a request (unreachable, refused, throttled): the run stops, --resume goes on."""


def filesystem(protocol: str):
    """fsspec's file system for protocol, made once per process, with no listing cache (other machines write too)."""
    fs = _filesystems.get((protocol, os.getpid()))  # a forked child makes its own (fsspec's are not fork-safe)
    if fs is None:
        try:
            import fsspec

            options = dict(_OPTIONS.get(protocol, {}))
            for k, v in fsspec.config.conf.get(protocol, {}).items():  # the user's fsspec settings win over mixcli's
                options[k] = {**options[k], **v} if isinstance(v, dict) and isinstance(options.get(k), dict) else v
            fs = fsspec.filesystem(protocol, use_listings_cache=False, **options)
        except ImportError:
            raise MixcliError(f"{protocol}:// URLs need {_EXTRA.get(protocol, 'fsspec')}") from None
        except ValueError as e:
            raise MixcliError(f"{protocol}:// URLs: {e}") from None
        _filesystems[protocol, os.getpid()] = fs
    return fs


class Guarded(io.RawIOBase):
    """A store's file object whose failures on the way (a part not sent, a range not read) are StoreErrors."""

    def __init__(self, f, where: str, what: str):
        self._f, self._where, self._what = f, where, what

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except MixcliError:
            raise
        except Exception as e:
            raise failed(self._what, self._where, e) from None

    def readable(self) -> bool:
        return self._what == "read"

    def writable(self) -> bool:
        return self._what == "write"

    def readinto(self, b) -> int:
        data = self._call(self._f.read, len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._call(self._f.read, size)

    def write(self, data) -> int:
        return self._call(self._f.write, data)

    def flush(self) -> None:
        if self._what == "write" and not self.closed and not self._f.closed:
            self._call(self._f.flush)

    def close(self) -> None:
        if self._what == "read" and not self.closed:
            self._call(self._f.close)
        super().close()  # a write's file is completed (or dropped) by _write_with, not here


def drop(f) -> None:
    """Abandon a store's file being written: its uploaded parts are dropped (as far as the store can be reached)."""
    try:
        f.discard()
    except Exception:
        pass  # unreachable: its parts wait for the bucket's lifecycle rule
    finally:
        f.closed = True  # else its __del__ would complete the upload


def together(fs, method: str, calls: list) -> list:
    """The results (or exceptions) of fs.method(*args) for each args of calls: gathered on fsspec's
    event loop for an async store (its coroutine is _method), one after another otherwise."""
    if not getattr(fs, "async_impl", False):
        return [_result(getattr(fs, method), *args) for args in calls]
    import asyncio

    from fsspec.asyn import sync

    async def gather():
        coroutine = getattr(fs, "_" + method)
        return await asyncio.gather(*(coroutine(*args) for args in calls), return_exceptions=True)

    return sync(fs.loop, gather)


def _result(fn, *args):
    try:
        return fn(*args)
    except Exception as e:
        return e


_NONE = object()


def ask(what: str, where: str, call, *args, missing=_NONE, passing: tuple = ()):
    """call(*args), any failure of the store a StoreError (cannot <what> <where>: ...); a missing
    object gives `missing` where one is given; the exceptions `passing` go through as they are."""
    try:
        return call(*args)
    except passing:
        raise
    except FileNotFoundError as e:
        if missing is _NONE:
            raise failed(what, where, e) from None
        return missing
    except Exception as e:
        raise failed(what, where, e) from None


def failed(what: str, where: str, e: Exception) -> MixcliError:
    if isinstance(e, MixcliError):  # already one line (no s3fs, say)
        return e
    detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return StoreError(f"cannot {what} {where}: {detail}")
