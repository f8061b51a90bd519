"""The one cache layer: what its key sees, the disk switch, and hits equal to fresh results."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import cache


def _study(tmp_path: Path, data: bytes = b"a,b\n1,2\n") -> tuple[Path, Path]:
    study = tmp_path / "study.yaml"
    study.write_text("title: t\n")
    csv = tmp_path / "events.csv"
    csv.write_bytes(data)
    return study, csv


def test_key_changes_when_data_bytes_change_even_with_the_same_size_and_mtime(tmp_path):
    study, csv = _study(tmp_path)
    before = cache.study_key("results", study, [csv], "2024Q4")
    st = csv.stat()
    csv.write_bytes(b"a,b\n1,3\n")  # same size
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time
    after = cache.study_key("results", study, [csv], "2024Q4")
    assert after.data_sha256 != before.data_sha256
    assert after.digest() != before.digest()
    assert after.data_sha256 == cache.data_sha256([csv])
    # unchanged bytes, unchanged key
    assert cache.study_key("results", study, [csv], "2024Q4") == after


def test_key_changes_with_package_version_study_and_quarter(tmp_path, monkeypatch):
    study, csv = _study(tmp_path)
    base = cache.study_key("results", study, [csv], "2024Q4")
    assert base.version.startswith(cache.package_version() + "+")
    assert cache.study_key("results", study, [csv], "2024Q3") != base
    assert cache.study_key("growth", study, [csv], "2024Q4") != base
    monkeypatch.setattr(cache, "package_version", lambda: "99.0")
    bumped = cache.study_key("results", study, [csv], "2024Q4")
    assert bumped.version.startswith("99.0+") and bumped.digest() != base.digest()
    monkeypatch.undo()
    study.write_text("title: other\n")
    assert cache.study_key("results", study, [csv], "2024Q4").study_sha256 != base.study_sha256


def test_disk_hit_returns_an_equal_result_without_computing(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "store"))
    key = cache.Key("results", study="s", data_sha256="d", version="v", quarter="2024Q4")
    calls = []

    def compute():
        calls.append(1)
        return {"frame": pd.DataFrame({"x": [1.5, 2.5]}), "paths": np.arange(6).reshape(2, 3)}

    memory = cache.Memory(4)
    first = cache.memo(key, compute, memory=memory, disk=True)
    assert cache.memo(key, compute, memory=memory, disk=True) is first  # memory hit
    fresh = cache.memo(key, compute, memory=cache.Memory(4), disk=True)  # a new process
    assert len(calls) == 1
    pd.testing.assert_frame_equal(fresh["frame"], first["frame"])
    np.testing.assert_array_equal(fresh["paths"], first["paths"])
    assert cache.disk_path(key).is_file()
    # another key is another entry
    other = cache.Key("results", study="s", data_sha256="d2", version="v", quarter="2024Q4")
    cache.memo(other, compute, disk=True)
    assert len(calls) == 2


def test_off_disables_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() is None and cache.disk_path(cache.Key("x")) is None
    calls = []
    for _ in range(2):
        cache.memo(cache.Key("x"), lambda: calls.append(1) or 7, disk=True)
    assert len(calls) == 2
    assert not (tmp_path / "xdg").exists()
    monkeypatch.setenv(cache.ENV, "OFF")
    assert cache.cache_dir() is None


def test_other_code_versions_entries_are_removed_once_stale(tmp_path, monkeypatch):
    """Every edit of the code left its entries behind (3.5 GB in a working copy); the first
    write of a process removes other versions' entries untouched for a day, not fresher ones
    (another checkout may share the folder), and never the current version's."""
    import time

    store = tmp_path / "store"
    monkeypatch.setenv(cache.ENV, str(store))
    cache.prune.cache_clear()
    old_key = cache.Key("results", study="s", version="0.1.0+old")
    cache.memo(old_key, lambda: 1, disk=True)
    fresh_key = cache.Key("results", study="s", version="0.1.0+other-checkout")
    cache.memo(fresh_key, lambda: 2, disk=True)
    legacy = store / "results-0123456789abcdef0123456789abcdef.pkl"  # before the subfolders
    legacy.write_bytes(pickle.dumps(3))
    day_ago = time.time() - cache.STALE_AFTER_SECONDS - 60
    for stale in (cache.disk_path(old_key).parent, legacy):
        os.utime(stale, (day_ago, day_ago))
    cache.prune.cache_clear()  # a new process
    current = cache.Key("results", study="s", version="0.1.0+new")
    assert cache.memo(current, lambda: 4, disk=True) == 4
    assert not cache.disk_path(old_key).parent.exists() and not legacy.exists()
    assert cache.disk_path(fresh_key).is_file() and cache.disk_path(current).is_file()
    # the current version's folder survives however old it looks
    os.utime(cache.disk_path(current).parent, (day_ago, day_ago))
    cache.prune.cache_clear()
    assert cache.prune(store, cache.disk_path(current).parent.name) == 0
    assert cache.disk_path(current).is_file()


def test_a_damaged_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    key = cache.Key("growth", study="s")
    cache.memo(key, lambda: 1, disk=True)
    cache.disk_path(key).write_bytes(b"not a pickle")
    assert cache.memo(key, lambda: 2, disk=True) == 2
    assert pickle.loads(cache.disk_path(key).read_bytes()) == 2


def test_memory_keeps_the_most_recently_used():
    memory = cache.Memory(2)
    memory.put("a", 1)
    memory.put("b", 2)
    assert memory.get("a") == 1  # a is now the most recent
    memory.put("c", 3)
    assert "b" not in memory and memory.get("a") == 1 and memory.get("c") == 3
    assert len(memory) == 2 and memory.get("b", "gone") == "gone"


def test_array_digest_sees_values_shape_and_type():
    a = np.arange(6)
    assert cache.array_sha256(a) == cache.array_sha256(a.copy())
    assert cache.array_sha256(a) != cache.array_sha256(a.reshape(2, 3))
    assert cache.array_sha256(a) != cache.array_sha256(a.astype(float))
    b = a.copy()
    b[-1] = 7
    assert cache.array_sha256(a) != cache.array_sha256(b)


@pytest.mark.parametrize("value", ["", None])
def test_default_folder_is_inside_a_project_or_the_user_cache(tmp_path, monkeypatch, value):
    if value is None:
        monkeypatch.delenv(cache.ENV, raising=False)
    else:
        monkeypatch.setenv(cache.ENV, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = cache.cache_dir()
    assert folder is not None and folder.name == "report-cache"
