"""report.pdf through headless Chromium, and the messages when Chromium is missing or fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from naef.report import ChromiumNotFoundError, PdfError, chromium_path, render_pdf
from tests.report.conftest import Run


def _has_chromium() -> bool:
    try:
        chromium_path()
    except ChromiumNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _has_chromium(), reason="no Chromium on this machine (set NAEF_CHROMIUM or install chromium)")
def test_pdf_of_the_report(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report.pdf"
    render_pdf(run.folder / "report.html", out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 100_000  # a page of text is a few kB; the charts' vector paths make it much larger
    assert data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 5
    assert [p.name for p in out.parent.iterdir()] == ["report.pdf"]
    # the charts are in it: the same page without Plotly.js (no chart drawn) prints to a much smaller PDF
    html = run.html
    start = html.index("<script>", html.rindex('type="application/json"'))
    bare = tmp_path / "bare.html"
    bare.write_text(html[:start] + html[html.index("</script>", start) + len("</script>"):], encoding="utf-8")
    render_pdf(bare, tmp_path / "bare.pdf")
    assert len(data) > (tmp_path / "bare.pdf").stat().st_size + 50_000


def test_no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NAEF_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    html = tmp_path / "report.html"
    html.write_text("<!DOCTYPE html><p>x</p>", encoding="utf-8")
    with pytest.raises(ChromiumNotFoundError, match=r"^--pdf: Chromium not found \(set NAEF_CHROMIUM"):
        render_pdf(html, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_naef_chromium_not_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NAEF_CHROMIUM", str(tmp_path / "nowhere" / "chromium"))
    with pytest.raises(ChromiumNotFoundError, match=r"^--pdf: NAEF_CHROMIUM=.* is not an executable Chromium"):
        chromium_path()


def test_naef_chromium_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'fake chromium: cannot print' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("NAEF_CHROMIUM", str(fake))
    assert chromium_path() == str(fake)
    html = tmp_path / "report.html"
    html.write_text("<!DOCTYPE html><p>x</p>", encoding="utf-8")
    with pytest.raises(PdfError, match=r"made no PDF \(exit code 3\): fake chromium: cannot print$"):
        render_pdf(html, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_missing_html(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match=r"^--pdf: .*report\.html: no such file$"):
        render_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    assert os.listdir(tmp_path) == []
