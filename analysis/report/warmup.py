"""What the report pool's fork server does once, before it forks any report.

The pool (:mod:`analysis.report.pool`) names :mod:`analysis.report.preload` last in
:func:`multiprocessing.set_forkserver_preload`; the standard library's fork server imports it,
which runs :func:`prepare` once at its start: the heavy imports, a warm-up figure and render
(fonts, Jinja templates, the Markdown renderer), the notebook templates, then each study
listed in the ``CONFLICT_TRENDS_PRELOAD_STUDIES`` environment variable (its data, and its
model fits, backtests, spillover simulation and growth table through
:func:`analysis.report.context.warm`, and its study-level figures through
:func:`analysis.report.study_figures.warm`). Every report is then a ``fork()`` of that state.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import sys
import time

#: Environment variable holding a JSON list of ``[study_path, quarter, with_results]``.
STUDIES_ENV = "CONFLICT_TRENDS_PRELOAD_STUDIES"

#: Modules imported before the first fork (missing ones are skipped): what a report imports.
#: Not statsmodels' model classes (0.25 s): reports read fitted results, and a study whose
#: results are not on disk yet imports them while the server fits them.
MODULES = (
    "numpy",
    "pandas",
    "scipy.stats",
    "matplotlib.pyplot",
    "seaborn",
    "papermill",
    "nbconvert",
    "jupytext",
    "analysis.config",
    "analysis.pipeline",
    "analysis.geography",
    "analysis.panel",
    "analysis.growth",
    "analysis.models.forecast",
    "analysis.models.spillover",
    "analysis.evaluation",
    "analysis.plots",
    "analysis.report.context",
    "analysis.report.show",
    "analysis.as_of",
    "analysis.ranking",
    "analysis.models.risk",
    "analysis.report.region_text",
    "analysis.report.spillover_text",
    "analysis.report.overview_text",
    "analysis.report.methods_text",
    "analysis.report.changes",
    "analysis.report.provenance",
    "analysis.report.study_figures",
    "analysis.report.run",
)


def warm_imports(modules: tuple[str, ...] = MODULES) -> None:
    """Import, and exercise once, what every report needs.

    Parameters
    ----------
    modules : tuple of str, optional
        Modules to import (one that fails to import is skipped); default :data:`MODULES`.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    import matplotlib.pyplot as plt
    import nbformat

    from analysis.report import assets, engine, render, run

    engine.register()
    engine.get_shell()
    # First text drawing loads fonts; first render compiles the Jinja template and the
    # Markdown renderer: done once here instead of in every report.
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.set_title("warm-up")
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Warm\n\ntext *x*")]
    render.render_html(nb)
    for path in assets.notebook_dir().glob("*.py"):
        with contextlib.suppress(Exception):
            # rendering the template renders its Markdown cells, the same in every report
            render.render_html(run.load_template(path))
    with contextlib.suppress(Exception):
        from analysis.report import provenance

        provenance.package_versions()


def warm_studies(specs: list[list]) -> list[str]:
    """Load each study (and, when asked, its shared results) into this process.

    Parameters
    ----------
    specs : list of [study_path, quarter, with_results]

    Returns
    -------
    list of str
        One message per study that failed; a failure is not fatal (each report then loads
        on its own and shows the error where it happens).
    """
    from analysis.report import context, demo_truth, study_figures

    errors = []
    for study, quarter, with_results in specs:
        try:
            if with_results:
                context.warm(study, quarter)
                study_figures.warm(study, quarter)
                study_figures.shared_backgrounds(study, quarter)
                # the demo check every report of a synthetic study shows
                demo_truth.study_section(context.load(study), study, quarter)
            # adjacency orders between all units, computed on first use: here, not per report
            context.load(study).data.boundaries.graph_orders()
        except Exception as exc:  # noqa: BLE001 - reported by the reports themselves
            errors.append(f"{study}: {type(exc).__name__}: {exc}")
    return errors


def warn_failures(errors: list[str]) -> None:
    """Say on stderr which studies could not be prepared ahead of their reports.

    Each report then prepares its study itself and shows the error where it happens, so a
    failure is not fatal; but unsaid, an operator saw only slow reports (each one repeating
    the failing preparation, up to its timeout) and never why.

    Parameters
    ----------
    errors : list of str
        One message per study, as :func:`warm_studies` returns them.
    """
    for error in errors:
        print(
            f"warning: preparing {error}; each report of that study will try again on its own",
            file=sys.stderr,
        )


def prepare() -> None:
    """Warm this process up, then park its objects outside the garbage collector's reach
    (``gc.freeze``) so that a child's collections do not touch, and copy, shared pages."""
    global PREPARE_CPU_SECONDS
    with contextlib.suppress(Exception):
        warm_imports()
    with contextlib.suppress(Exception):
        warn_failures(warm_studies(json.loads(os.environ.get(STUDIES_ENV) or "[]")))
    with contextlib.suppress(Exception):
        from analysis import plots

        # empty report figures for the forked reports, after the studies' warm-up drawing,
        # which would use them up
        plots.prepare_blanks()
    gc.freeze()
    PREPARE_CPU_SECONDS = time.process_time()


#: CPU seconds :func:`prepare` took (the fork server's start-up), inherited by its children.
PREPARE_CPU_SECONDS = 0.0


def prepare_cpu_seconds() -> float:
    """CPU seconds the fork server spent warming up (run it in a report process)."""
    return PREPARE_CPU_SECONDS
