"""conflict-trends: admin-1 conflict-event panels, growth, forecasts, spillover risk, reports.

``analysis.__version__`` is the installed distribution's version (``unknown`` in a checkout
that was never installed), looked up on first use so that importing the package stays cheap.
"""

from __future__ import annotations

import functools


@functools.cache  # the metadata lookup costs a directory scan; cache keys ask on every load
def installed_version() -> str:
    """The installed version of conflict-trends (``unknown`` in a checkout never installed);
    the one lookup behind ``__version__``, cache keys and ingest manifests."""
    from importlib import metadata

    try:
        return metadata.version("conflict-trends")
    except metadata.PackageNotFoundError:
        return "unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
