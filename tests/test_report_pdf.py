"""PDF copies printed by headless Chromium, where it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.report import pdf


def test_missing_chromium_is_a_clear_input_error(monkeypatch) -> None:
    monkeypatch.setenv(pdf.CHROMIUM_ENV, "/nonexistent/chromium")
    assert pdf.find_chromium() is None
    with pytest.raises(InputError) as info:
        pdf.require_chromium()
    assert "apt install chromium" in info.value.render()


@pytest.mark.browser
def test_report_page_prints_to_pdf(tmp_path: Path) -> None:
    if pdf.find_chromium() is None:
        pytest.skip("Chromium is not installed")
    page = tmp_path / "r.html"
    rows = "".join(f"<tr><td>Koulikoro {i}</td><td>{2017 + i}</td></tr>" for i in range(200))
    page.write_text(f"<html><body><h1>Report</h1><table>{rows}</table></body></html>")
    out = pdf.html_to_pdf(page)
    assert out == tmp_path / "r.pdf"
    assert out.read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
        pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
        assert pages >= 2  # 200 rows do not fit one A4 page
