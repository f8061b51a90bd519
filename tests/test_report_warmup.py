"""The fork server's warm-up: study-level figures drawn by a forked helper are kept here."""

from __future__ import annotations

import pytest


@pytest.fixture
def figures(monkeypatch, tmp_path):
    from analysis import cache
    from analysis.report import context, study_figures, warmup

    on_disk = tmp_path / "results.pkl"
    on_disk.write_bytes(b"")
    monkeypatch.setattr(study_figures, "_PICTURES", cache.Memory(8))
    monkeypatch.setattr(context, "study_key", lambda kind, study, quarter="": (kind, study))
    monkeypatch.setattr(cache, "disk_path", lambda key: on_disk if key[1] == "ready" else None)
    return warmup, study_figures


def test_the_helpers_pictures_are_kept_in_the_server(figures, monkeypatch):
    import os

    warmup, study_figures = figures
    server = os.getpid()

    def warm(study, quarter):  # runs in the helper only
        assert os.getpid() != server
        study_figures._PICTURES.put(("pit", study, quarter), study_figures.Picture(f"png {study}"))

    monkeypatch.setattr(study_figures, "warm", warm)
    specs = [["ready", "2024Q4", True], ["not-on-disk", "", True], ["ready", "", False]]
    helper = warmup._figures_aside(specs)
    assert helper is not None
    cpu = warmup._adopt(helper)
    assert cpu > 0
    # only the study whose results are on disk, and that wants them, was drawn aside
    assert study_figures.pictures() == [
        (("pit", "ready", "2024Q4"), study_figures.Picture("png ready"))
    ]


def test_no_helper_when_no_study_is_on_disk(figures):
    warmup, _ = figures
    assert warmup._figures_aside([["not-on-disk", "", True]]) is None


def test_a_failing_helper_leaves_the_drawing_to_the_server(figures, monkeypatch):
    warmup, study_figures = figures

    def crash(study, quarter):
        import os

        os._exit(3)  # the helper dies without writing anything

    monkeypatch.setattr(study_figures, "warm", crash)
    helper = warmup._figures_aside([["ready", "", True]])
    assert warmup._adopt(helper) == 0.0
    assert study_figures.pictures() == []  # prepare() then draws the figures itself
