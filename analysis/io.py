"""Safe file output: every write goes to a temporary file in the same folder, then is renamed.

A crash, a full disk or a kill in the middle of a write therefore leaves the previous file
intact, never a half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from analysis.errors import InputError, Problem


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is untouched.

    Parameters
    ----------
    target : str or os.PathLike
        The file to write; its folder is made if missing.

    Yields
    ------
    pathlib.Path
        An empty temporary file in the folder of ``target``, with the mode the umask gives.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; outputs (reports, panels) are meant to be shared like any
    # other file the user writes, so apply the usual umask-derived mode.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically.

    Parameters
    ----------
    target : str or os.PathLike
    data : bytes
    """
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically.

    Parameters
    ----------
    target : str or os.PathLike
    text : str
    """
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``target`` atomically (NaN is refused, not written).

    Parameters
    ----------
    target : str or os.PathLike
    obj : object
        JSON-serialisable.

    Raises
    ------
    ValueError
        When ``obj`` holds a NaN or an infinity; ``target`` is not written.
    """
    atomic_write_text(target, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def atomic_write_with(target: str | os.PathLike[str], writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and rename its output onto ``target`` atomically.

    For libraries that write to a path themselves (``DataFrame.to_parquet``, ``savefig``).

    Parameters
    ----------
    target : str or os.PathLike
    writer : callable
        Writes the output to the path it is given.
    """
    with atomic_path(target) as tmp:
        writer(tmp)


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks.

    Parameters
    ----------
    path : str or os.PathLike
    chunk_size : int
        Bytes read at a time.

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_text_for_reading(path: str | os.PathLike[str]) -> IO[str]:
    """Open a text file for reading, dropping a UTF-8 byte-order mark if present.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    file object
        Text decoded as UTF-8, with newlines left untranslated (as the ``csv`` module wants).
    """
    return open(path, encoding="utf-8-sig", newline="")


#: The one folder no command writes into but ``fetch`` (whose job is to download there).
RAW_PARTS = ("data", "raw")

#: What an output path must be, whichever command names it.
NOT_AN_INPUT = "a path other than the input files, the study file and data/raw/"


def under_raw(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` (resolved, so a symlink counts where it points) is a ``data/raw``
    folder or lies under one: the raw exports, which are never modified.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    bool
    """
    parts = Path(path).resolve().parts
    return any(parts[i : i + 2] == RAW_PARTS for i in range(len(parts) - 1))


def _same_file(a: Path, b: Path) -> bool:
    # resolve() sees through symlinks; samefile also catches a hard link to the input
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _cannot_create_in(folder: Path) -> str | None:
    """Why no file can be made in ``folder``, or None: a file made and removed at once. The
    permission bits say nothing for root, and /proc refuses every new file ("file not found:
    /proc/.x.parquet.vu8axr2g.tmp" had come after the whole run)."""
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
    except OSError as exc:
        return f"no file can be made in {folder} ({exc.strerror or exc})"
    try:
        os.close(handle)
    finally:
        os.unlink(probe)  # one that cannot be removed is an error, not a leftover
    return None


def require_writable(
    target: str | os.PathLike[str],
    kind: Literal["file", "folder"] = "file",
    option: str = "--out",
    inputs: Iterable[str | os.PathLike[str]] = (),
    raw_allowed: bool = False,
) -> Path:
    """Check, before any work, that ``target`` can be written as a ``kind``, and may be.

    A command that finds out only at its last step that its output path is a folder (or lies
    under a file) has wasted its run and ends in an ``OSError``; this says what is wrong with
    the path first. It makes no folder; the one file it makes is a probe in the nearest
    existing folder, removed at once, and only once the path may be written (never under
    ``data/raw/``). An output that is one of the
    command's own inputs (its events table, the study file, a data file) or lies under
    ``data/raw/`` is refused too: the run would replace what it reads, or raw data, which are
    never modified. Every command's ``--out`` goes through here, so the rule is one.

    Parameters
    ----------
    target : path
        The file to write, or the folder to write into (made if missing).
    kind : {"file", "folder"}
        What ``target`` must be.
    option : str
        The option or argument that named ``target``, for the message.
    inputs : iterable of path
        The files the command reads (input files, the study file and its data files).
    raw_allowed : bool
        ``target`` may lie under ``data/raw/`` (``fetch``, which downloads raw exports there).

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    InputError
        When ``target`` is a folder (a file is wanted) or a file (a folder is wanted), when
        one of its parent folders is a file, when its nearest existing folder may not be
        written, when it is one of ``inputs``, or when it lies under ``data/raw/`` (unless
        ``raw_allowed``).
    """
    spelt = os.fspath(target)
    target = Path(target)
    wanted = "a file path (not a folder)" if kind == "file" else "a folder (made if missing)"
    found = None
    nearest: Path | None = None
    if kind == "file" and target.is_dir():
        found = "an existing folder"
    elif kind == "file" and spelt.replace(os.sep, "/").rsplit("/", 1)[-1] in ("", ".", ".."):
        # Path() drops a trailing "/" or "/.": "newdir/" had been written as a file called
        # newdir, and "x/.." had failed at the last step after making x
        found = "a path that ends in a folder ('/', '.' or '..'), not a file name"
    elif kind == "file" and target.exists() and not target.is_file():
        # /dev/null as root: the final rename had replaced the device with a regular file
        found = "an existing device, pipe or socket, not a regular file"
    elif kind == "folder" and target.exists() and not target.is_dir():
        found = "an existing file"
    else:
        # the nearest existing ancestor is where the folders (and the file) would be made
        start = target.parent if kind == "file" else target
        nearest = next((p for p in (start, *start.parents) if p.exists()), Path.cwd())
        if not nearest.is_dir():
            found = f"{nearest} is a file, not a folder"
        elif not os.access(nearest, os.W_OK | os.X_OK):
            found = f"no permission to write in {nearest}"
    if found is not None:
        raise InputError(
            f"cannot write {option} {target}",
            [Problem(str(target), None, option, wanted + " that can be written", found)],
        )
    same = next((Path(p) for p in inputs if _same_file(target, Path(p))), None)
    if same is not None:
        found = f"the same file as the input {same}"
    elif not raw_allowed and under_raw(target):
        found = "a path under data/raw/, which is never modified"
    if found is not None:
        raise InputError(
            f"refusing to write {option} over an input or raw data",
            [Problem(str(target), None, option, NOT_AN_INPUT, found)],
        )
    # last, once the path may be written at all: a probe under data/raw/ would have touched it
    found = _cannot_create_in(nearest) if nearest is not None else None
    if found is not None:
        raise InputError(
            f"cannot write {option} {target}",
            [Problem(str(target), None, option, wanted + " that can be written", found)],
        )
    return target
