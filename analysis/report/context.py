"""What a report notebook starts from: the study and its prepared data, read once per process.

In a batch the fork server calls :func:`load` before forking, so the events are read and the
panel built once per study and worker, not once per report; each forked report inherits them.
The cache is keyed by the study file's SHA-256 and the size and modification time of every
data file, so an edited input is never served stale.

Both are also kept on disk (pickles in ``data/processed/report-cache`` when the current folder
has ``data/processed``, else ``~/.cache/conflict-trends/report-cache``, or the folder named by
``CONFLICT_TRENDS_REPORT_CACHE``; ``off`` disables it), keyed as above plus the package's
source fingerprint, so a fresh process (a plain papermill kernel, the next batch) does not
redo a study's models either. The folder holds only what this code wrote; delete it freely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.io import sha256_file


@dataclass(frozen=True)
class ReportContext:
    """A loaded study: ``study`` (``analysis.config.Study``), ``data`` (``StudyData``)."""

    study: Any
    data: Any
    study_sha256: str

    def study_identity(self) -> dict[str, Any]:
        """Title, slug, path and SHA-256 of the study file, for provenance."""
        return {
            "title": self.study.title,
            "slug": self.study.slug,
            "path": str(self.study.path),
            "sha256": self.study_sha256,
            "attribution": getattr(self.study, "attribution", ""),
        }


CACHE_ENV = "CONFLICT_TRENDS_REPORT_CACHE"

_CACHE: dict[tuple[Any, ...], ReportContext] = {}
_STUDIES: dict[tuple[Any, ...], Any] = {}
_MAX_STUDIES = 4


def _cache_dir() -> Path | None:
    value = os.environ.get(CACHE_ENV, "")
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


def _disk(kind: str, key: tuple[Any, ...], compute: Any) -> Any:
    """Return the cached pickle for (kind, key, code) or compute, store and return it."""
    import hashlib
    import json
    import pickle

    from analysis.io import atomic_write_bytes
    from analysis.report.provenance import code_fingerprint

    folder = _cache_dir()
    if folder is None:
        return compute()
    digest = hashlib.sha256(
        json.dumps([kind, key, code_fingerprint()], default=str).encode()
    ).hexdigest()
    path = folder / f"{kind}-{digest[:32]}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed
            path.unlink(missing_ok=True)
    value = compute()
    try:
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only cache folder only costs speed
    return value


def _key(path: Path, study: Any) -> tuple[Any, ...]:
    stats = []
    for item in study.data:
        st = os.stat(item)
        stats.append((str(item), st.st_size, st.st_mtime_ns))
    return (str(path), sha256_file(path), tuple(stats))


def load(study_path: str | os.PathLike[str]) -> ReportContext:
    """Load and prepare a study, reusing this process's copy while its files are unchanged.

    Parameters
    ----------
    study_path : str or path
        The study YAML.

    Returns
    -------
    ReportContext
    """
    from analysis.config import load_study
    from analysis.pipeline import prepare

    path = Path(study_path).resolve()
    st = path.stat()
    study_key = (str(path), st.st_size, st.st_mtime_ns)
    study = _STUDIES.get(study_key)
    if study is None:  # validating a study resolves names against the boundaries: 0.2 s
        study = load_study(path)
        _STUDIES[study_key] = study
    key = _key(path, study)
    cached = _CACHE.get(key)
    if cached is None:
        data = _disk("data", key, lambda: prepare(study))
        cached = ReportContext(study=study, data=data, study_sha256=key[1])
        if len(_CACHE) >= _MAX_STUDIES:  # bounded: long batches keep memory flat
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return cached


@dataclass(frozen=True)
class StudyResults:
    """Study-wide model results that every report of a study shares.

    Computed once per study, as-of date and process (so once per worker in a batch, before
    the first fork), which also makes the region reports and the overview agree.

    Attributes
    ----------
    forecast : analysis.models.forecast.ForecastResult
        Every region, ``horizon`` periods, from the ``auto`` forecaster (chosen by
        rolling-origin CRPS on the history only).
    spillover : analysis.models.spillover.SpilloverResult
        The endemic-epidemic model's P(at least one event) per region and country.
    model : str
        Forecaster name shown to readers.
    """

    forecast: Any
    spillover: Any
    model: str


_RESULTS: dict[tuple[Any, ...], StudyResults] = {}

FORECAST_MODEL = "auto"
FORECAST_SAMPLES = 2000


def results(study_path: str | os.PathLike[str], quarter: str = "") -> StudyResults:
    """Forecast and spillover results of a study as of ``quarter`` (cached per process).

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str
        ``YYYYQn`` or empty for the whole window.

    Returns
    -------
    StudyResults
    """
    from analysis.models.forecast import forecast
    from analysis.models.spillover import fit_spillover, spillover_forecast
    from analysis.report.summary import panel_as_of

    ctx = load(study_path)
    path = Path(study_path).resolve()
    key = (_key(path, ctx.study), quarter)
    cached = _RESULTS.get(key)
    if cached is None:
        study = ctx.study

        def compute() -> StudyResults:
            from analysis.pipeline import require_history

            panel = panel_as_of(ctx.data.panel, quarter)
            require_history(panel, study, "the reports' forecasts")
            fc = forecast(
                FORECAST_MODEL,
                panel,
                horizon=study.horizon,
                n_samples=FORECAST_SAMPLES,
                seed=study.seed,
            )
            model = fit_spillover(
                panel, boundaries=ctx.data.boundaries, focus_trend=list(study.focus)
            )
            spill = spillover_forecast(model, study.horizon, focus=study.focus, seed=study.seed)
            return StudyResults(forecast=fc, spillover=spill, model=FORECAST_MODEL)

        cached = _disk("results", key, compute)
        if len(_RESULTS) >= _MAX_STUDIES:
            _RESULTS.pop(next(iter(_RESULTS)))
        _RESULTS[key] = cached
    return cached


def warm(study_path: str | os.PathLike[str], quarter: str = "") -> None:
    """Load a study and compute its shared results, so that forked reports inherit them."""
    load(study_path)
    results(study_path, quarter)
