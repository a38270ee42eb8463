"""Evidence documents: the PDFs the reviewer assessed (vendor submission, paper, supplement).

The assessment lists each document by SHA-256 with its title, original file name, page count,
size and when it was attached (``$.evidence`` of the .probity file). The file itself is never put
into the .probity: attaching copies it, atomically and read-only, into an evidence folder beside
it (``study.probity`` -> ``study.evidence/<sha256>.pdf``), deduplicated by hash. Resolving a
document re-checks the hash and says, in one sentence, if the copy is missing or changed and
what to do (locate the original again).

A :class:`~assessment.document.SourceRef` names a document (free text, as before) and a page,
optionally the evidence hash and a quoted passage; :func:`source_label` prints it the one way
the GUI and the report show it: ``title, p. 4 — “quoted text”``.

Attaching, renaming and removing go through :func:`set_evidence`, the
document's own audited, undoable mutation path.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assessment.catalogue import EVIDENCE_KEYS
from assessment.document import Assessment, SourceRef, now_iso
from assessment.evidence_pdf import EvidenceError, probe_pdf


def evidence_entries(doc: Assessment) -> list[dict[str, Any]]:
    """The document's ``$.evidence`` list (a copy)."""
    return copy.deepcopy(doc._data.get("evidence") or [])


def set_evidence(doc: Assessment, entries: list[dict[str, Any]]) -> None:
    """Replace ``$.evidence``: one audited, undoable change through the document's own path."""
    doc._change(("evidence",), copy.deepcopy(entries))


MAX_BYTES = 512 * 1024 * 1024
CHUNK = 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
OK, CHANGED, MISSING, UNSAVED = "ok", "changed", "missing", "unsaved"
_PAGE_NUMBER = re.compile(r"(\d+)")

__all__ = ["EvidenceDocument", "EvidenceError", "EvidenceStatus", "attach", "status"]


@dataclass(frozen=True)
class EvidenceDocument:
    sha256: str
    title: str
    file_name: str
    pages: int
    size: int
    added: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in EVIDENCE_KEYS}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EvidenceDocument:
        return cls(
            sha256=str(raw["sha256"]),
            title=str(raw.get("title", "")),
            file_name=str(raw.get("file_name", "")),
            pages=int(raw.get("pages", 0)),
            size=int(raw.get("size", 0)),
            added=str(raw.get("added", "")),
        )

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


@dataclass(frozen=True)
class EvidenceStatus:
    state: str  # ok / changed / missing / unsaved
    message: str  # one sentence; "" when ok
    path: Path | None  # the stored copy (None until the assessment is saved)


def documents(doc: Assessment) -> list[EvidenceDocument]:
    return [EvidenceDocument.from_json(raw) for raw in evidence_entries(doc)]


def by_hash(doc: Assessment) -> dict[str, EvidenceDocument]:
    return {d.sha256: d for d in documents(doc)}


def evidence_folder(probity_path: Path) -> Path:
    """``study.probity`` -> ``study.evidence`` (beside it)."""
    return probity_path.with_name(probity_path.stem + ".evidence")


def stored_path(probity_path: Path, sha256: str) -> Path:
    return evidence_folder(probity_path) / f"{sha256}.pdf"


def file_sha256(path: Path, cancelled: Callable[[], bool] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if cancelled is not None and cancelled():
                from assessment.errors import Cancelled

                raise Cancelled()
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------ attaching


def _check_source_file(source: Path) -> int:
    try:
        info = source.stat()
    except OSError as exc:
        raise EvidenceError(
            f"{source.name} cannot be read ({exc.strerror or exc}); choose the file again."
        ) from exc
    if not source.is_file():
        raise EvidenceError(f"{source.name} is not a file; choose a PDF document.")
    if info.st_size > MAX_BYTES:
        raise EvidenceError(
            f"{source.name} is {info.st_size / 1024**2:.0f} MB, more than the "
            f"{MAX_BYTES // 1024**2} MB Probity attaches; attach the part that was assessed."
        )
    if info.st_size == 0:
        raise EvidenceError(f"{source.name} is empty; choose the complete PDF.")
    return info.st_size


def _copy_hashing(source: Path, folder: Path) -> tuple[Path, str, int]:
    """Copy ``source`` into a temporary file in ``folder``, hashing the bytes copied (so the
    hash names exactly what is stored, even if the original changes meanwhile)."""
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".attach-", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise EvidenceError(
                        f"{source.name} grew past {MAX_BYTES // 1024**2} MB while it was copied; "
                        "attach it again when it is complete."
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size


def _place(tmp: Path, target: Path) -> None:
    """Move the checked copy to its hash name, read-only; an intact copy already there stays."""
    if target.exists() and _intact(target, target.stem):
        tmp.unlink(missing_ok=True)
        return
    if target.exists():  # a damaged copy under the hash name: replace it
        os.chmod(target, 0o644)
    os.chmod(tmp, 0o444)
    os.replace(tmp, target)


def _intact(path: Path, sha256: str) -> bool:
    try:
        return file_sha256(path) == sha256
    except OSError:
        return False


def _stage(source: Path, probity_path: Path) -> tuple[Path, Path, str, int]:
    """Copy and hash ``source`` into the evidence folder: (temporary copy, folder, sha, size)."""
    _check_source_file(source)
    folder = evidence_folder(probity_path)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise EvidenceError(
            f"The evidence folder {folder} cannot be created ({exc.strerror or exc}); save the "
            "assessment in a folder you can write to."
        ) from exc
    try:
        tmp, sha, size = _copy_hashing(source, folder)
    except OSError as exc:
        raise EvidenceError(
            f"{source.name} could not be copied into {folder.name} ({exc.strerror or exc})."
        ) from exc
    return tmp, folder, sha, size


@dataclass(frozen=True)
class Prepared:
    """A checked PDF already stored under its hash, ready to be listed (:func:`add`)."""

    entry: EvidenceDocument
    new: bool  # False: the assessment lists this SHA-256 already


def prepare(probity_path: Path | None, source: Path, known: dict[str, EvidenceDocument],
            title: str | None = None) -> Prepared:
    """The slow half of attaching (copy, hash, probe; no document change): safe in a worker.
    ``known``: the documents already attached, by hash."""
    if probity_path is None:
        raise EvidenceError(
            "Save the assessment first: evidence documents are stored in a folder beside the "
            ".probity file."
        )
    tmp, _folder, sha, size = _stage(source, probity_path)
    try:
        existing = known.get(sha)
        if existing is not None:
            _place(tmp, stored_path(probity_path, sha))  # restores a missing copy
            return Prepared(existing, False)
        facts = probe_pdf(tmp, name=source.name)
        _place(tmp, stored_path(probity_path, sha))
    finally:
        tmp.unlink(missing_ok=True)
    entry = EvidenceDocument(
        sha256=sha,
        title=" ".join((title or facts.title or source.stem).split())[:300] or source.name,
        file_name=source.name,
        pages=facts.pages,
        size=size,
        added=now_iso(),
    )
    return Prepared(entry, True)


def add(doc: Assessment, prepared: Prepared) -> bool:
    """List a prepared document (one audited, undoable change); False if already listed."""
    if not prepared.new or prepared.entry.sha256 in by_hash(doc):
        return False
    set_evidence(doc, [*evidence_entries(doc), prepared.entry.to_json()])
    return True


def attach(doc: Assessment, probity_path: Path | None, source: Path,
           title: str | None = None) -> tuple[EvidenceDocument, bool]:
    """Attach a PDF: (its entry, True if newly added). An already attached document (same
    SHA-256) is not added twice."""
    prepared = prepare(probity_path, source, by_hash(doc), title)
    return prepared.entry, add(doc, prepared)


def relocate(doc: Assessment, probity_path: Path | None, sha256: str, source: Path) -> Path:
    """Put the original back: ``source`` must have the recorded SHA-256."""
    entry = by_hash(doc).get(sha256)
    if entry is None:
        raise EvidenceError("That document is no longer attached to this assessment.")
    if probity_path is None:
        raise EvidenceError("Save the assessment first, then locate the document.")
    tmp, _folder, sha, _size = _stage(source, probity_path)
    try:
        if sha != sha256:
            raise EvidenceError(
                f"{source.name} is not the document attached as “{entry.title}”: its SHA-256 "
                f"starts {sha[:12]}, the attached one {sha256[:12]}. Choose the original file, "
                "or attach this one as a new document."
            )
        target = stored_path(probity_path, sha)
        _place(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def carry_over(doc: Assessment, old_path: Path | None, new_path: Path) -> list[str]:
    """Save As: copy the stored PDFs from beside ``old_path`` to beside ``new_path`` (each one
    missing there whose old copy is intact). Returns one sentence per document left behind."""
    problems: list[str] = []
    if old_path is None:
        return problems
    for entry in documents(doc):
        target, source = stored_path(new_path, entry.sha256), stored_path(old_path, entry.sha256)
        if target == source or (target.is_file() and _intact(target, entry.sha256)):
            continue
        if not _intact(source, entry.sha256):
            problems.append(f"“{entry.title}” was not copied beside {new_path.name}: its copy "
                            "is missing or changed; use Locate on the Evidence step.")
            continue
        try:
            tmp, _folder, _sha, _size = _stage(source, new_path)
            try:
                _place(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        except (EvidenceError, OSError) as exc:
            problems.append(f"“{entry.title}” was not copied beside {new_path.name}: {exc}")
    return problems


def rename(doc: Assessment, sha256: str, title: str) -> None:
    title = " ".join(title.split())[:300]
    if not title:
        raise EvidenceError("A document needs a title; type one, or press Escape to keep it.")
    entries = evidence_entries(doc)
    for raw in entries:
        if raw.get("sha256") == sha256:
            raw["title"] = title
            break
    else:
        raise EvidenceError("That document is no longer attached to this assessment.")
    set_evidence(doc, entries)


def remove(doc: Assessment, sha256: str) -> None:
    """Take the document off the list (its stored copy stays: undo brings the entry back)."""
    set_evidence(doc, [raw for raw in evidence_entries(doc) if raw.get("sha256") != sha256])


def cited_by(doc: Assessment, sha256: str) -> list[str]:
    """The answer slots whose sources cite the document."""
    return [key for key, a in doc.answers.items() if any(s.evidence == sha256 for s in a.sources)]


# ------------------------------------------------------------------------------ resolving


def status(probity_path: Path | None, entry: EvidenceDocument,
           cancelled: Callable[[], bool] | None = None) -> EvidenceStatus:
    """Is the stored copy there, with the recorded hash? One sentence if not."""
    if probity_path is None:
        return EvidenceStatus(UNSAVED, "Save the assessment to find its evidence folder.", None)
    path = stored_path(probity_path, entry.sha256)
    if not path.is_file():
        return EvidenceStatus(
            MISSING,
            f"“{entry.title}” ({entry.file_name}) is missing from {path.parent.name}: use "
            "Locate to choose the original file again.",
            path,
        )
    try:
        actual = file_sha256(path, cancelled)
    except OSError as exc:
        return EvidenceStatus(
            MISSING, f"“{entry.title}” cannot be read ({exc.strerror or exc}).", path
        )
    if actual != entry.sha256:
        return EvidenceStatus(
            CHANGED,
            f"“{entry.title}” has changed since it was attached (SHA-256 now starts "
            f"{actual[:12]}, recorded {entry.sha256[:12]}): what you see is not what was "
            "assessed; use Locate to choose the original file.",
            path,
        )
    return EvidenceStatus(OK, "", path)


# ------------------------------------------------------------------------------ sources


def page_number(ref: SourceRef) -> int | None:
    """The first number in the page text ("p. 4" -> 4), or None."""
    found = _PAGE_NUMBER.search(ref.page)
    return int(found.group(1)) if found else None


def evidence_ref(entry: EvidenceDocument, page: int, quote: str = "") -> SourceRef:
    from assessment.evidence_pdf import normalise_quote

    if not 1 <= page <= max(entry.pages, 1):
        raise EvidenceError(
            f"“{entry.title}” has {entry.pages} pages; choose a page from 1 to {entry.pages}."
        )
    return SourceRef(document=entry.title, page=f"p. {page}", evidence=entry.sha256,
                     quote=normalise_quote(quote)[:2000])


def source_label(ref: SourceRef, evidence: dict[str, EvidenceDocument]) -> str:
    """``title, p. 4 — “quote”`` (the current title of an attached document)."""
    entry = evidence.get(ref.evidence) if ref.evidence else None
    name = entry.title if entry is not None else ref.document
    text = f"{name}, {ref.page}" if ref.page else name
    if ref.quote:
        text += f" — “{ref.quote}”"
    return text


def shown_document(ref: SourceRef, titles: dict[str, str]) -> str:
    """The document name a source shows: an attached document's current title."""
    return titles.get(ref.evidence, ref.document) if ref.evidence else ref.document


def keep_links(parsed: list[SourceRef], before: tuple[SourceRef, ...],
               titles: dict[str, str] | None = None) -> list[SourceRef]:
    """Free-text editing of a slot's sources keeps each reference's evidence link and quote
    when its document (as shown: ``titles`` maps hash -> current title) and page are unchanged."""
    titles = titles or {}
    linked = {(shown_document(s, titles), s.page): s for s in before if s.evidence or s.quote}
    return [linked.get((s.document, s.page), s) for s in parsed]
