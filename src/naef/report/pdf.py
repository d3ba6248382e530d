"""``report.pdf``: the HTML report printed to PDF by headless Chromium (``--pdf``).

Chromium is looked up as ``$NAEF_CHROMIUM`` (a path or a command name) or, failing that, ``chromium``,
``chromium-browser``, ``google-chrome`` or ``google-chrome-stable`` on ``PATH``. It runs as

``chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --window-size=1100,900
--virtual-time-budget=15000 --print-to-pdf=<tmp> file:///…/report.html``

with a throwaway profile folder, so the page's script has drawn every chart before the page is printed
(``@page`` in the report's styles: A4 landscape, about 1,030 CSS pixels wide, so charts drawn at the 1,100-pixel
window's content width of about 1,000 pixels fit the page). The report fetches nothing, so this works offline.
The PDF is written into a temporary folder first and moved to ``pdf_path`` only when Chromium has produced one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from naef.errors import NaefError

__all__ = ["CHROMIUM_NAMES", "ChromiumNotFoundError", "PdfError", "chromium_path", "render_pdf"]

#: executables tried on PATH, in order, when NAEF_CHROMIUM is not set
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: virtual milliseconds Chromium lets the page run (draw its charts) before printing
VIRTUAL_TIME_BUDGET_MS = 15_000


class PdfError(NaefError):
    """The PDF could not be made."""


class ChromiumNotFoundError(PdfError):
    """No Chromium to print the PDF with."""


def chromium_path() -> str:
    """The Chromium executable to use (module docstring); :class:`ChromiumNotFoundError` when there is none."""
    env = os.environ.get("NAEF_CHROMIUM")
    if env:
        found = shutil.which(env)
        if found is None:
            raise ChromiumNotFoundError(f"--pdf: NAEF_CHROMIUM={env!r} is not an executable Chromium; point it at "
                                        "one or unset it to search PATH")
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ChromiumNotFoundError(
        "--pdf: Chromium not found (set NAEF_CHROMIUM, or install chromium, e.g. 'apt-get install chromium'); "
        "the HTML report is unaffected"
    )


def render_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout_s: float = 180.0) -> None:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium.

    Raises :class:`ChromiumNotFoundError` when no Chromium is found and :class:`PdfError` (with Chromium's last
    line of output) when it does not produce a PDF.
    """
    html = Path(html_path).resolve()
    out = Path(pdf_path).resolve()
    if not html.is_file():
        raise PdfError(f"--pdf: {html}: no such file")
    exe = chromium_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="naef-pdf-") as tmp:
        target = Path(tmp) / "report.pdf"
        args = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-sync", "--disable-component-update", "--mute-audio", "--hide-scrollbars",
            "--window-size=1100,900",
            f"--user-data-dir={Path(tmp) / 'profile'}", "--run-all-compositor-stages-before-draw",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}", "--no-pdf-header-footer",
            f"--print-to-pdf={target}", html.as_uri(),
        ]
        try:
            res = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"--pdf: Chromium ({exe}) did not finish within {timeout_s:g} s") from None
        except OSError as exc:
            raise PdfError(f"--pdf: cannot run Chromium ({exe}): {exc.strerror}") from None
        ok = target.is_file() and target.stat().st_size > 0 and target.read_bytes()[:5] == b"%PDF-"
        if not ok:
            lines = [ln for ln in (res.stderr or res.stdout or "").splitlines() if ln.strip()]
            last = lines[-1].strip() if lines else "no output"
            raise PdfError(f"--pdf: Chromium ({exe}) made no PDF (exit code {res.returncode}): {last}")
        shutil.move(str(target), out)
