"""Optional PDF copies of rendered reports, printed by headless Chromium.

The HTML pages carry print CSS (A4 margins, no scrolling boxes, figures and tables kept whole),
so Chromium's print-to-PDF gives a faithful copy without a second layout engine. Chromium is
found on the ``PATH`` (Debian's ``chromium`` package) or named by ``CONFLICT_TRENDS_CHROMIUM``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from analysis.errors import InputError, Problem

CHROMIUM_ENV = "CONFLICT_TRENDS_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if Path(named).is_file() else None
    for name in _NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """Path of Chromium, or an InputError saying how to get it."""
    browser = find_chromium()
    if browser is None:
        raise InputError(
            "PDF export needs Chromium",
            [
                Problem(
                    None,
                    None,
                    "--pdf",
                    f"chromium on the PATH (Debian: apt install chromium) or {CHROMIUM_ENV}",
                    "not found",
                )
            ],
        )
    return browser


def html_to_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str] | None = None,
    timeout: float = 180.0,
) -> Path:
    """Print a report page to PDF with headless Chromium (written atomically).

    Parameters
    ----------
    html_path : path
        The rendered report.
    pdf_path : path, optional
        Target; by default the HTML path with a ``.pdf`` suffix.
    timeout : float
        Seconds allowed for Chromium.

    Returns
    -------
    Path
        The PDF.

    Raises
    ------
    InputError
        No Chromium found.
    RuntimeError
        Chromium failed or wrote nothing.
    """
    browser = require_chromium()
    html_path = Path(html_path).resolve()
    target = Path(pdf_path) if pdf_path else html_path.with_suffix(".pdf")
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.pdf")
    args = [
        browser,
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--print-to-pdf={tmp}",
        html_path.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            raise RuntimeError(
                f"Chromium could not print {html_path.name}: {done.stderr.strip()[-500:]}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
