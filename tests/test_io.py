from __future__ import annotations

import errno
import json
import os

import pytest

from analysis.io import (
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    atomic_write_with,
    sha256_file,
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
