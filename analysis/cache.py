"""The package's one cache: results kept in memory and, for a study's report results, on disk.

Every entry is found by a :class:`Key` that says what was computed and from what:

- ``kind``: the result (``data``, ``results``, ``growth``, ``prepared``, ``fold``...);
- ``study``: the study (its file's resolved path, or its parameters) and ``study_sha256``;
- ``data_sha256``: SHA-256 over the bytes of the study's data files, in order;
- ``version``: the package version and a SHA-256 of its Python sources;
- ``quarter`` (a report's as-of quarter) and ``extra`` (any other argument).

Change any of them and the entry is not found, so an edited data file or study, another package
version or edited code is never served stale. File digests are recomputed only when a file's
size, modification time, change time or inode changes (the change time cannot be set back by a
program, so rewritten bytes are always seen).

In memory, :class:`Memory` keeps the most recently used entries of one kind, a bounded number
so long batches keep memory flat. On disk, :func:`memo` with ``disk=True`` keeps pickles in
``data/processed/report-cache`` when the current folder has ``data/processed``, else in
``~/.cache/conflict-trends/report-cache``, or in the folder named by
``CONFLICT_TRENDS_REPORT_CACHE``; the value ``off`` disables the disk cache. The folder holds
only what this module wrote; delete it freely. Entries sit in one subfolder per code version,
and a process's first write removes the subfolders of other versions untouched for
:data:`STALE_AFTER_SECONDS` (their keys can never be asked for again: every edit of the code
left its entries behind, 3.5 GB in a working copy). Pure functions of small hashable arguments
(boundaries by path, design matrices) use :func:`functools.lru_cache` directly.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from analysis import installed_version as package_version
from analysis.io import atomic_write_bytes, sha256_file

T = TypeVar("T")

#: Environment variable naming the disk cache folder (``off`` disables it).
ENV = "CONFLICT_TRENDS_REPORT_CACHE"
PACKAGE_DIR = Path(__file__).resolve().parent
_MISSING = object()


@dataclass(frozen=True)
class Key:
    """What a cached value is: the result, and the study, data and code it came from."""

    kind: str
    study: str = ""
    study_sha256: str = ""
    data_sha256: str = ""
    version: str = ""
    quarter: str = ""
    extra: tuple[Hashable, ...] = ()

    def digest(self) -> str:
        """SHA-256 of the whole key: the name of its entry on disk."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class Memory:
    """At most ``maxsize`` values by key in memory; the least recently used leaves first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = int(maxsize)
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value of ``key`` (now the most recently used), else ``default``.

        Parameters
        ----------
        key : Hashable
        default : Any, optional
            Returned when ``key`` is not held; None by default.

        Returns
        -------
        Any
        """
        if key not in self._items:
            return default
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond ``maxsize``.

        Parameters
        ----------
        key : Hashable
        value : Any
        """
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        return list(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


@functools.lru_cache(maxsize=256)
def _sha256_of(path: str, size: int, mtime_ns: int, ctime_ns: int, inode: int) -> str:
    return sha256_file(path)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read again only when the file changed on disk.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    str
        The hexadecimal digest.
    """
    st = os.stat(path)
    return _sha256_of(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def data_sha256(paths: Iterable[str | os.PathLike[str]]) -> str:
    """One SHA-256 over the bytes of every file, in the order given.

    Parameters
    ----------
    paths : Iterable of str or os.PathLike
        The files; their order changes the digest.

    Returns
    -------
    str
        The hexadecimal SHA-256 over the files' own hexadecimal digests.
    """
    digest = hashlib.sha256()
    for path in paths:
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def array_sha256(values: np.ndarray) -> str:
    """SHA-256 of an array's shape, type and values.

    Parameters
    ----------
    values : numpy.ndarray

    Returns
    -------
    str
        The hexadecimal digest.
    """
    values = np.ascontiguousarray(values)
    digest = hashlib.sha256(f"{values.shape}{values.dtype}".encode())
    digest.update(values.tobytes())
    return digest.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over the package's Python sources: changed code means changed results.

    Computed once per process: the code a process runs is the code it imported.
    """
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def version() -> str:
    """The ``version`` part of a key: package version and source fingerprint."""
    return f"{package_version()}+{code_fingerprint()[:16]}"


def study_key(
    kind: str,
    study_path: str | os.PathLike[str],
    data_paths: Iterable[str | os.PathLike[str]],
    quarter: str = "",
) -> Key:
    """The key of a study-wide result: study file, data bytes, code version, quarter.

    Parameters
    ----------
    kind : str
        The result (``data``, ``results``, ``growth``...).
    study_path : str or os.PathLike
        The study's YAML file (the key holds its resolved path and digest).
    data_paths : Iterable of str or os.PathLike
        The study's data files, in order.
    quarter : str, optional
        The report's as-of quarter (``YYYYQn``); empty (the default) for the whole study.

    Returns
    -------
    Key
    """
    path = Path(study_path).resolve()
    return Key(
        kind=kind,
        study=str(path),
        study_sha256=file_sha256(path),
        data_sha256=data_sha256(data_paths),
        version=version(),
        quarter=quarter,
    )


def cache_dir() -> Path | None:
    """The disk cache folder, or None when ``CONFLICT_TRENDS_REPORT_CACHE=off``."""
    value = os.environ.get(ENV, "")
    if value.lower() == "off":
        return None
    if value:
        return Path(value)
    from analysis.config import DATA_PROCESSED

    if DATA_PROCESSED.is_dir():  # inside a project (a checkout or `conflict-trends init`)
        return DATA_PROCESSED / "report-cache"
    # elsewhere, the user's cache folder rather than a data/ tree made in any folder
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "conflict-trends" / "report-cache"


#: Age (seconds since last written) after which another code version's entries are removed:
#: a day, so that two checkouts sharing one cache folder do not clear each other's.
STALE_AFTER_SECONDS = 24 * 3600


def _version_folder(version_text: str) -> str:
    return "v-" + hashlib.sha256(version_text.encode()).hexdigest()[:16]


def disk_path(key: Key) -> Path | None:
    """Where ``key``'s value is kept on disk (None when the disk cache is off).

    Parameters
    ----------
    key : Key

    Returns
    -------
    Path or None
        A ``.pkl`` file in the subfolder of ``key.version`` under :func:`cache_dir`.
    """
    folder = cache_dir()
    if folder is None:
        return None
    return folder / _version_folder(key.version) / f"{key.kind}-{key.digest()[:32]}.pkl"


@functools.cache
def prune(folder: Path, keep: str) -> int:
    """Remove other code versions' entries from the cache ``folder`` once they have not been
    written for :data:`STALE_AFTER_SECONDS`; once per folder and process.

    Parameters
    ----------
    folder : Path
        The disk cache folder (:func:`cache_dir`).
    keep : str
        The current version's subfolder name, never removed.

    Returns
    -------
    int
        Subfolders and loose entries removed.
    """
    import shutil
    import time

    cutoff = time.time() - STALE_AFTER_SECONDS
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            stale = entry.stat().st_mtime < cutoff
        except OSError:
            continue
        if not stale or entry.name == keep:
            continue
        if entry.is_dir() and entry.name.startswith("v-"):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        elif entry.is_file() and entry.suffix == ".pkl":  # entries from before the subfolders
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _read(path: Path) -> Any:
    if not path.is_file():
        return _MISSING
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # noqa: BLE001 - a damaged entry is recomputed
        path.unlink(missing_ok=True)
        return _MISSING


def memo(
    key: Key, compute: Callable[[], T], *, memory: Memory | None = None, disk: bool = False
) -> T:
    """The value of ``key`` from memory, else from disk, else ``compute()`` (then kept).

    Parameters
    ----------
    key : Key
    compute : callable
        Called without arguments on a miss.
    memory : Memory, optional
        The in-memory store of this kind of result.
    disk : bool
        Also keep the value on disk (pickled), unless the disk cache is off.

    Returns
    -------
    The cached or computed value.
    """
    if memory is not None:
        value = memory.get(key, _MISSING)
        if value is not _MISSING:
            return value
    path = disk_path(key) if disk else None
    value = _read(path) if path is not None else _MISSING
    if value is _MISSING:
        value = compute()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                pass  # a read-only cache folder only costs speed
            else:
                prune(path.parent.parent, path.parent.name)
    if memory is not None:
        memory.put(key, value)
    return value
