"""PDF from HTML with headless Chromium (打印 PDF): one implementation for every document (case
print views, evaluation reports, the monthly bulletin).

The HTML must be self-contained (styles inline or embedded, images as data URLs): Chromium runs
with no network (a dead proxy) and no file access beyond the document, so a document a bureau
edits cannot make the server fetch anything. Chromium is `settings.URBANGRID_CHROMIUM` or the
`URBANGRID_CHROMIUM` environment variable when set, else `chromium` on PATH; without it,
`PdfUnavailable` (views answer 503 and point to the print view)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

TIMEOUT_S = 90


class PdfUnavailable(RuntimeError):
    """Chromium is not installed, or it failed to print."""


def chromium_path() -> str | None:
    configured = getattr(settings, "URBANGRID_CHROMIUM", "") or os.environ.get("URBANGRID_CHROMIUM", "")
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def html_to_pdf(html: str, *, timeout: int = TIMEOUT_S) -> bytes:
    """Print a self-contained HTML document to PDF (page size from its CSS `@page`)."""
    exe = chromium_path()
    if not exe:
        raise PdfUnavailable(_("PDF needs Chromium on the server (apt-get install chromium fonts-noto-cjk)."))
    with tempfile.TemporaryDirectory(prefix="urbangrid-pdf-") as tmp:
        src, out = Path(tmp) / "doc.html", Path(tmp) / "doc.pdf"
        src.write_text(html, encoding="utf-8")
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--proxy-server=http://127.0.0.1:9",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(_("Chromium could not print the document.")) from exc
        if not out.exists() or out.stat().st_size == 0:
            tail = proc.stderr[-300:].decode(errors="replace")
            raise PdfUnavailable(_("Chromium could not print the document: %(e)s") % {"e": tail})
        return out.read_bytes()
