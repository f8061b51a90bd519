from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.io import (
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    atomic_write_with,
    require_writable,
    sha256_file,
    under_raw,
)


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "out" / "a.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_full_disk_leaves_previous_output_intact(tmp_path):
    target = tmp_path / "report.html"
    atomic_write_text(target, "previous report")

    def writer(tmp):
        with open(tmp, "w") as handle:
            handle.write("half a rep")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write_with(target, writer)
    assert target.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_failure_during_rename_keeps_previous(tmp_path, monkeypatch):
    target = tmp_path / "x.txt"
    atomic_write_text(target, "old")

    def broken_replace(src, dst):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_nan_is_refused_not_written(tmp_path):
    target = tmp_path / "n.json"
    with pytest.raises(ValueError):
        atomic_write_json(target, {"x": float("nan")})
    assert not target.exists()


def test_sha256_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "f.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_atomic_path_creates_parent_folders(tmp_path):
    target = tmp_path / "a" / "b" / "c.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("ok")
    assert target.read_text() == "ok"


def test_outputs_get_the_usual_permissions(tmp_path):
    import stat

    target = tmp_path / "shared.html"
    atomic_write_text(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_require_writable_names_the_path_and_what_was_expected(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    a_file = tmp_path / "a.csv"
    a_file.write_text("x")
    cases = [
        (folder, "file", "a file path (not a folder)", "an existing folder"),
        (a_file, "folder", "a folder (made if missing)", "an existing file"),
        (a_file / "x.csv", "file", "a file path", f"{a_file} is a file, not a folder"),
        (a_file / "sub" / "out", "folder", "a folder", f"{a_file} is a file, not a folder"),
    ]
    for target, kind, expected, found in cases:
        with pytest.raises(InputError) as caught:
            require_writable(target, kind, option="--out")
        (problem,) = caught.value.problems
        assert problem.file == str(target) and problem.column == "--out"
        assert problem.expected.startswith(expected) and problem.found == found
    new = tmp_path / "new" / "deeper" / "out.csv"
    assert require_writable(new) == new
    assert require_writable(new.parent, "folder") == new.parent
    assert require_writable(a_file) == a_file  # an existing file is replaced atomically
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "folder"]  # made nothing


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_require_writable_refuses_a_folder_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InputError, match="no permission to write"):
            require_writable(locked / "out.csv")
    finally:
        locked.chmod(0o755)


def test_require_writable_refuses_an_input_and_anything_under_data_raw(tmp_path):
    """`panel x.parquet --out x.parquet` had replaced its own events table, and an --out
    under data/raw/ had written over raw data, which are never modified."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    export = raw / "ged.csv"
    export.write_text("id\n1\n")
    events = tmp_path / "events.parquet"
    events.write_text("x")
    link = tmp_path / "link.parquet"
    link.symlink_to(events)
    hard = tmp_path / "hard.parquet"
    os.link(events, hard)
    cases = [
        (events, [events], "the same file as the input"),
        (link, [events], "the same file as the input"),  # a symlink to it
        (hard, [events], "the same file as the input"),  # a hard link to it
        (raw / "other.csv", [export], "under data/raw/"),  # not an input, but raw data
        (raw / "new" / "x.parquet", [], "under data/raw/"),
    ]
    for target, inputs, found in cases:
        with pytest.raises(InputError) as caught:
            require_writable(target, inputs=inputs, option="--out")
        (problem,) = caught.value.problems
        assert problem.file == str(target) and problem.column == "--out", target
        assert problem.expected == (
            "a path other than the input files, the study file and data/raw/"
        )
        assert found in problem.found, (target, problem.found)
    with pytest.raises(InputError, match="under data/raw/"):
        require_writable(raw / "reports", "folder")
    # fetch downloads raw exports there; any other path is as before
    assert require_writable(raw, "folder", raw_allowed=True) == raw
    assert require_writable(tmp_path / "out.parquet", inputs=[events]) == tmp_path / "out.parquet"
    assert under_raw(export) and not under_raw(tmp_path / "raw" / "x.csv")
    assert export.read_text() == "id\n1\n" and events.read_text() == "x"


def test_require_writable_refuses_what_no_final_rename_can_write(tmp_path):
    """Paths the checks above let through and the last step then broke: a device (root's
    `--out /dev/null` had replaced the device with a regular file), a trailing slash (written
    as a file of that name), a path ending in '..' (a folder made, then an OSError), and a
    folder in which no file can be made (/proc, whatever its permission bits say to root)."""
    ends = "a path that ends in a folder ('/', '.' or '..'), not a file name"
    cases = [
        ("/dev/null", ("an existing device, pipe or socket, not a regular file",)),
        (f"{tmp_path / 'newdir'}/", (ends,)),
        (f"{tmp_path / 'newdir'}/.", (ends,)),
        (str(tmp_path / "x.json" / ".."), (ends,)),
    ]
    if Path("/proc").is_dir():
        # root passes the permission bits and meets the probe; anyone else, the bits
        cases.append(("/proc/out.parquet", ("no file can be made in /proc",
                                            "no permission to write in /proc")))  # fmt: skip
    for target, found in cases:
        with pytest.raises(InputError) as caught:
            require_writable(target, option="--out")
        (problem,) = caught.value.problems
        assert problem.column == "--out" and problem.found.startswith(found), problem.found
    assert Path("/dev/null").is_char_device()
    # a path that may be written is probed in its nearest folder, and the probe is gone
    assert require_writable(tmp_path / "new" / "out.csv") == tmp_path / "new" / "out.csv"
    assert list(tmp_path.iterdir()) == []


def test_require_writable_touches_nothing_under_data_raw(tmp_path, monkeypatch):
    """The probe comes after the refusals: data/raw/ is never modified, not even by a file
    made and removed at once (which had changed the folder's time stamp)."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    stamp = raw.stat().st_mtime_ns
    monkeypatch.chdir(tmp_path)
    made: list[str] = []
    real_mkstemp = tempfile.mkstemp
    monkeypatch.setattr(
        tempfile, "mkstemp", lambda **kw: made.append(kw["dir"]) or real_mkstemp(**kw)
    )
    with pytest.raises(InputError, match="over an input or raw data"):
        require_writable(raw / "out.csv")
    assert made == [] and raw.stat().st_mtime_ns == stamp
