"""PDF facts for evidence documents, through pypdfium2 (PDFium, the renderer Chromium ships).

Three jobs, all Qt-free so the GUI only turns pixels into a picture:

* :func:`probe_pdf` checks an *untrusted* file before it is attached: a PDF, not encrypted, not
  damaged, at most :data:`MAX_PAGES` pages. PDFium runs in a child process
  (``python -m assessment.evidence_pdf FILE``) with a wall-clock limit and an address-space
  limit, so a hostile file can neither hang nor exhaust the workbench; the child answers with
  one line of JSON.
* :func:`render_page` rasterises one page of an attached (already probed) file to RGBx pixels.
* :func:`find_quote` finds quoted text on a page (PDFium's text search, case-insensitive,
  whitespace-tolerant) and returns its rectangles in page coordinates (points, origin bottom-left).

PDFium is not thread-safe: every in-process call holds :data:`PDFIUM_LOCK`. pypdfium2 is
imported lazily, so opening Probity never loads it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assessment.errors import ProbityError

MAX_PAGES = 5000
PROBE_TIMEOUT_S = 30.0
PROBE_MEMORY_BYTES = 2 * 1024**3
MAX_RENDER_PIXELS = 40_000_000  # a page is never rasterised larger than ~160 MB of RGBx
PDFIUM_LOCK = threading.Lock()


class EvidenceError(ProbityError):
    """An evidence document cannot be attached, found or shown (one sentence, with the fix)."""


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    title: str  # the PDF's own /Title metadata ("" when it has none)


@dataclass(frozen=True)
class RenderedPage:
    """One page as RGBx pixels (4 bytes a pixel, rows ``stride`` bytes apart)."""

    index: int
    page_count: int
    width: int
    height: int
    stride: int
    pixels: bytes
    scale: float  # pixels per PDF point
    page_width_pt: float
    page_height_pt: float


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote was found: its page (0-based) and rectangles (left, bottom, right, top) in
    PDF points."""

    page: int
    rects: tuple[tuple[float, float, float, float], ...]


# ------------------------------------------------------------------------- probing (child)


def _probe_in_this_process(path: str, max_pages: int = MAX_PAGES) -> dict[str, Any]:
    """Run in the child process: open with PDFium, count pages, read the title."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            return {"error": "encrypted"}
        if "format" in text or "corrupt" in text:
            return {"error": "damaged"}
        return {"error": "damaged", "detail": str(exc)[:200]}
    try:
        pages = len(pdf)
        if pages > max_pages:
            return {"error": "pages", "pages": pages, "limit": max_pages}
        if pages < 1:
            return {"error": "empty"}
        # Loading the first and the last page checks the page tree actually holds pages.
        for index in {0, pages - 1}:
            pdf[index].close()
        try:
            title = str(pdf.get_metadata_value("Title") or "")
        except Exception:  # noqa: BLE001 - metadata is a nicety; damaged metadata is not fatal
            title = ""
        return {"pages": pages, "title": title[:300]}
    except pdfium.PdfiumError as exc:
        return {"error": "damaged", "detail": str(exc)[:200]}
    finally:
        pdf.close()


def _limit_child_memory() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY_BYTES, PROBE_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass


def probe_command(path: Path) -> list[str]:
    """The child process that probes ``path`` (this module run as a script)."""
    return [sys.executable, "-m", "assessment.evidence_pdf", str(path), str(MAX_PAGES)]


def probe_pdf(path: Path, *, name: str | None = None, timeout_s: float = PROBE_TIMEOUT_S
              ) -> PdfFacts:
    """Check an untrusted file is a readable PDF; raise :class:`EvidenceError` if it is not."""
    shown = name or path.name
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise EvidenceError(f"{shown} cannot be read ({exc.strerror or exc}).") from exc
    if b"%PDF-" not in head:
        raise EvidenceError(
            f"{shown} is not a PDF (it does not start with %PDF-); attach the PDF version of "
            "the document."
        )
    try:
        done = subprocess.run(
            probe_command(path),
            capture_output=True,
            timeout=timeout_s,
            cwd=str(Path(__file__).resolve().parents[1]),
            preexec_fn=_limit_child_memory if sys.platform != "win32" else None,  # noqa: PLW1509
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EvidenceError(
            f"{shown} could not be read within {timeout_s:.0f} seconds, so it was not attached; "
            "it may be damaged or built to stall readers. Ask for a fresh copy."
        ) from exc
    answer = _last_json_line(done.stdout)
    if answer is None:
        raise EvidenceError(
            f"{shown} made the PDF reader fail (exit code {done.returncode}), so it was not "
            "attached; it is damaged or hostile. Ask for a fresh copy."
        )
    return _facts_from(answer, shown)


def _last_json_line(stdout: bytes) -> dict[str, Any] | None:
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _facts_from(answer: dict[str, Any], shown: str) -> PdfFacts:
    error = answer.get("error")
    if error == "encrypted":
        raise EvidenceError(
            f"{shown} is encrypted with a password; attach an unencrypted copy (ask the sender, "
            "or print it to PDF after opening it)."
        )
    if error == "pages":
        raise EvidenceError(
            f"{shown} has {answer.get('pages')} pages, more than the {answer.get('limit')} "
            "Probity "
            "attaches; attach the part that was assessed."
        )
    if error == "empty":
        raise EvidenceError(f"{shown} has no pages; attach the complete document.")
    if error is not None or not isinstance(answer.get("pages"), int):
        raise EvidenceError(
            f"{shown} is a damaged PDF that cannot be read, so it was not attached; ask for a "
            "fresh copy."
        )
    return PdfFacts(pages=int(answer["pages"]), title=str(answer.get("title") or ""))


# --------------------------------------------------------------------- rendering / search


def render_page(path: Path, index: int, scale: float) -> RenderedPage:
    """Rasterise page ``index`` (0-based) at ``scale`` pixels per point, as RGBx."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise EvidenceError(f"{path.name} can no longer be opened ({exc}).") from exc
        try:
            count = len(pdf)
            if not 0 <= index < count:
                raise EvidenceError(
                    f"{path.name} has {count} pages; page {index + 1} does not exist."
                )
            page = pdf[index]
            try:
                width_pt, height_pt = page.get_size()
                area = max(width_pt * height_pt, 1.0)
                scale = min(scale, (MAX_RENDER_PIXELS / area) ** 0.5)
                bitmap = page.render(scale=scale, prefer_bgrx=True, rev_byteorder=True)
                try:
                    pixels = bytes(bitmap.buffer)
                    return RenderedPage(index, count, bitmap.width, bitmap.height,
                                        bitmap.stride, pixels, scale, width_pt, height_pt)
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            pdf.close()


_SPACE = re.compile(r"\s+")


def normalise_quote(quote: str) -> str:
    """Runs of white space (line breaks of a copied passage) become one space."""
    return _SPACE.sub(" ", quote).strip()


def _search_page(pdf: Any, index: int, quote: str) -> QuoteMatch | None:
    page = pdf[index]
    try:
        text = page.get_textpage()
        try:
            # Try the quote as typed, then its first words (a copied passage may break lines
            # with hyphens or run into a column break).
            words = quote.split(" ")
            for attempt in dict.fromkeys([quote, " ".join(words[:8]), " ".join(words[:4])]):
                if not attempt:
                    continue
                searcher = text.search(attempt, match_case=False)
                try:
                    hit = searcher.get_next()
                finally:
                    searcher.close()
                if hit:
                    start, count = hit
                    n = text.count_rects(start, count)
                    rects = tuple(tuple(float(v) for v in text.get_rect(i)) for i in range(n))
                    return QuoteMatch(index, rects)  # type: ignore[arg-type]
            return None
        finally:
            text.close()
    finally:
        page.close()


def find_quote(path: Path, index: int, quote: str) -> QuoteMatch | None:
    """The quote on page ``index`` (0-based); if it is not there, on the nearest page that has
    it (the reviewer may have typed the printed page number); None when it is nowhere."""
    wanted = normalise_quote(quote)
    if not wanted:
        return None
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            count = len(pdf)
            order = sorted(range(count), key=lambda i: (abs(i - index), i))
            for i in order:
                match = _search_page(pdf, i, wanted)
                if match is not None:
                    return match
            return None
        finally:
            pdf.close()


if __name__ == "__main__":  # the probe's child process
    try:
        result = _probe_in_this_process(sys.argv[1], int(sys.argv[2]))
    except MemoryError:
        result = {"error": "damaged", "detail": "out of memory"}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
