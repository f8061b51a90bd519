"""conflict-trends: admin-1 conflict-event panels, growth, forecasts, spillover risk, reports.

``analysis.__version__`` is the installed distribution's version (``unknown`` in a checkout
that was never installed), looked up on first use so that importing the package stays cheap.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("conflict-trends")
        except metadata.PackageNotFoundError:
            return "unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
