"""The Validation data page's data file: open, drop, read in a worker, find the stored one.

A mixin of :class:`gui.data.page.ValidationDataPage`. Reading, sniffing and suggesting a mapping
are :mod:`assessment.evaluation.io`'s; this module runs them in the page's task runner and finds
the stored evaluation's file again (only a file whose SHA-256 matches is loaded without asking).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtGui import QDragEnterEvent, QDropEvent

from assessment.catalogue import data_file_filter, data_format
from gui.data.parts import DataPageParts

DATA_FILTER = data_file_filter()
MAX_CHOICES = 200


def check_cells(inputs: Any, intersections: Any, limit: int) -> None:
    """Run's intersection-cell check (the CLI's --max-group-cells), in the app's wording."""
    from assessment.evaluation.mapping_steps import check_intersection_cells

    check_intersection_cells(inputs.attributes, intersections, limit, "raise the limit when asked")


class DataFileLoading(DataPageParts):
    """Open, drop and (re)load the validation data file."""

    def choose_file(self) -> None:
        path = self.ctx.ask_open_path("Open validation data", DATA_FILTER)
        if path is not None:
            self.load_file(str(path))

    def read_limits(self) -> Any:
        """The read limits (assessment.evaluation.limits), as stored in the settings."""
        from assessment.evaluation.limits import ReadLimits

        settings = getattr(self.ctx, "settings", None)
        return ReadLimits.from_json(settings.get("read_limits") if settings else None)

    def _offer_raised_limit(self, exc: BaseException, path: str, sheet: str | None) -> bool:
        """A file over a read limit: say which, and offer to raise it and read again.

        Returns True when the reviewer chose (the error needs no second dialog)."""
        from assessment.evaluation.limits import LimitError

        if not isinstance(exc, LimitError):
            return False
        limits = self.read_limits()
        current = getattr(limits, exc.limit)
        raised = limits.raised(exc.limit, exc.needed if exc.needed else current * 4)
        question = (
            f"{exc.message}\n\nRaise this limit to {getattr(raised, exc.limit):,g} "
            "and read the file again? A very large file can take minutes and "
            "gigabytes of memory."
        )
        if not self.ctx.ask_yes_no("Data file over a limit", question):
            self.status.setText("The file was not read: " + exc.message)
            return True
        settings = getattr(self.ctx, "settings", None)
        if settings is not None:
            settings.set("read_limits", raised.to_json())
        self.load_file(path, sheet)
        return True

    def _offer_raised_cells(self, exc: BaseException) -> bool:
        """An intersection over the group-cell limit: say so, offer to raise the limit and
        evaluate again (True: handled, no second dialog)."""
        from assessment.evaluation.limits import LimitError

        if not isinstance(exc, LimitError) or exc.limit != "max_group_cells":
            return False
        limits = self.read_limits()
        raised = limits.raised(exc.limit, exc.needed or limits.max_group_cells * 4)
        question = (
            f"{exc}\n\nRaise this limit to {raised.max_group_cells:,} and evaluate again? "
            "Many groups can take minutes and gigabytes of memory."
        )
        if not self.ctx.ask_yes_no("Intersection over a limit", question):
            self.status.setText(f"Not evaluated: {exc}")
            return True
        settings = getattr(self.ctx, "settings", None)
        if settings is not None:
            settings.set("read_limits", raised.to_json())
        self.run_evaluation()  # type: ignore[attr-defined]
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and is_data_file(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for url in event.mimeData().urls():
            if url.isLocalFile() and is_data_file(url.toLocalFile()):
                event.acceptProposedAction()
                self.load_file(url.toLocalFile())
                return
        event.ignore()

    def load_file(self, path: str, sheet: str | None = None) -> None:
        """Read ``path`` in a worker; the preview and the suggested mapping follow.

        Everything that scans the table (reading, guessing the mapping, listing each column's
        values for the choosers) happens in the worker, so a million-row file never stalls
        the window.
        """
        target = Path(path)
        pending = self.state.pending_config
        self.state.auto_reopen = False  # the reviewer's own choice wins over the stored file
        limits = self.read_limits()

        def work(progress: Any, cancelled: Any) -> _Loaded:
            from assessment.errors import Cancelled
            from assessment.evaluation.io import (
                ColumnMapping,
                list_sheets,
                read_table,
                suggest_mapping,
            )

            sheets: list[str] = []
            if target.suffix.lower() == ".xlsx":
                sheets = list_sheets(target, limits)
            table = read_table(target, sheet=sheet, limits=limits)
            if cancelled():
                raise Cancelled()
            progress(0.6)
            mapping = None
            if pending and pending.get("sha256") == table.sha256 and pending.get("mapping"):
                mapping = ColumnMapping.from_json(pending["mapping"])
            if mapping is None:
                mapping = suggest_mapping(table)
            values = distinct_values(table)
            return _Loaded(target, table, sheets, mapping, values)

        self.status.setText(f"Reading {target.name}…")
        self._start_job(
            "load",
            work,
            self._loaded,
            on_failed=lambda exc: self._offer_raised_limit(exc, path, sheet),
        )

    def _sheet_chosen(self) -> None:
        if self.path is not None and self.table is not None:
            sheet = self.sheet_combo.currentText()
            if sheet and sheet != self.table.sheet:
                self.load_file(str(self.path), sheet)

    def _loaded(self, loaded: _Loaded) -> None:
        table = loaded.table
        self.table, self.path = table, loaded.path
        self.state.value_cache = dict(loaded.values)
        self.preview_model.set_frame(table.frame)
        self.preview_stack.setCurrentWidget(self.preview)
        self.reopen_button.setVisible(False)
        self.preview_model.fit_columns(self.preview, sample=100, max_width=220)
        where = f", sheet {table.sheet}" if table.sheet else ""
        self.file_label.setText(
            f"{table.file_name}{where} — {table.rows_read:,} rows × {len(table.columns)} columns"
        )
        self.file_label.setToolTip(plain_tooltip(f"{loaded.path}\nSHA-256 {table.sha256}"))
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(loaded.sheets)
        if table.sheet:
            self.sheet_combo.setCurrentText(table.sheet)
        self.sheet_combo.blockSignals(False)
        self.set_mapping(loaded.mapping)
        pending = self.state.pending_config
        if pending and pending.get("sha256") == table.sha256 and pending.get("spec"):
            self._apply_spec(pending["spec"])  # the stored run's intersections and reference
        status = f"Loaded {table.file_name}. Check the mapping, then run."
        if len(loaded.sheets) > 1:  # the first sheet is rarely known to be the data
            status = (
                f"Loaded sheet “{table.sheet}” of {table.file_name}, which has "
                f"{len(loaded.sheets)} sheets; choose another under Sheet if this is not "
                "the validation data."
            )
        self.status.setText(status)
        self.table_loaded.emit()
        self._update_state()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Load the stored evaluation's data file the first time the page is shown.

        Only a file whose SHA-256 matches the stored one is loaded without asking; the demo
        thereby opens complete (its parquet file sits in the bundled demo folder).
        """
        super().showEvent(event)
        if self.state.auto_reopen and self.table is None and not self.running:
            self._reopen_stored_file(auto=True)

    def _reopen_clicked(self) -> None:
        self._reopen_stored_file(auto=False)

    def _reopen_stored_file(self, auto: bool = False) -> None:
        """Find the stored evaluation's file (stored path, beside the .probity, bundled demo),
        verify its SHA-256 in a worker, then load it; a file that differs is loaded only when the
        reviewer agrees after being told."""
        self.state.auto_reopen = False
        config = self.state.pending_config or {}
        candidates = list(self.state.stored_candidates)
        expected = str(config.get("sha256") or "")
        sheet = config.get("sheet")
        if not candidates:
            return

        def work(progress: Any, cancelled: Any) -> tuple[Path | None, list[tuple[Path, str]]]:
            from assessment.errors import Cancelled, DataError

            differing: list[tuple[Path, str]] = []
            for candidate in candidates:
                if cancelled():
                    raise Cancelled()
                try:
                    digest = file_sha256(candidate)
                except (OSError, DataError):  # unreadable or refused: try the next place
                    continue
                if digest == expected:
                    return candidate, differing
                differing.append((candidate, digest))
            return None, differing

        def verified(out: tuple[Path | None, list[tuple[Path, str]]]) -> None:
            match, differing = out
            if match is not None:
                self.load_file(str(match), sheet)
                return
            if not differing:
                self.status.setText(f"{candidates[0].name} could not be read; use Open data file.")
                return
            path, digest = differing[0]
            text = (
                f"{path} has SHA-256 {digest[:16]}…, but the stored evaluation used a file with "
                f"SHA-256 {expected[:16]}…. It is a different file; results from it will not "
                "match the stored evaluation."
            )
            if auto:
                self.status.setText(text + " Use the Load button to load it anyway.")
                return
            if self.ctx.ask_yes_no("Different data file", text + "\n\nLoad it anyway?"):
                self.load_file(str(path), sheet)
            else:
                self.status.setText("Nothing was loaded. " + text)

        self.status.setText(f"Checking {candidates[0].name}…")
        self._start_job("load", work, verified)


def is_data_file(path: str | Path) -> bool:
    return data_format(Path(path).suffix) is not None


def _demo_folder() -> Path | None:
    """The bundled demo folder (resources/demo), where the demo's data file ships."""
    from importlib.resources import files

    folder = files("resources").joinpath("demo")
    return Path(str(folder)) if folder.is_dir() else None


def stored_file_candidates(
    config: dict[str, Any] | None, document_path: Path | None, demo_folder: Path | None
) -> list[Path]:
    """Existing files that may be the stored evaluation's data file, most likely first.

    The stored path (absolute, or relative to the open .probity file), then a file with the same
    name beside the .probity file, then one in the bundled demo folder. Only existence is
    checked here; the caller verifies the SHA-256 before trusting any of them.
    """
    if not config:
        return []
    stored = str(config.get("file") or "")
    name = str(config.get("file_name") or Path(stored).name or "")
    folder = document_path.parent if document_path is not None else None
    raw: list[Path] = []
    if stored:
        path = Path(stored)
        if path.is_absolute():
            raw.append(path)
        elif folder is not None:
            raw.append(folder / path)
    if name and Path(name).name == name:  # a bare file name, never a path from the document
        if folder is not None:
            raw.append(folder / name)
        if demo_folder is not None:
            raw.append(demo_folder / name)
    out: list[Path] = []
    for path in raw:
        try:
            resolved = path.resolve()
            exists = resolved.is_file()
        except OSError:
            continue
        if exists and resolved not in out:
            out.append(resolved)
    return out


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally: Qt renders a tooltip that looks like HTML as
    HTML, and file paths come from the reviewer's disk."""
    if not text:
        return ""
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"


def file_sha256(path: Path) -> str:
    """SHA-256 of a data file's bytes, through read_table's checks (a regular file within
    the size limit: a stored path that now names a FIFO or /dev/zero cannot hang the page)."""
    from assessment.evaluation.io import file_sha256 as guarded

    return guarded(path)


@dataclass(frozen=True)
class _Loaded:
    """What the load worker hands to the UI thread."""

    path: Path
    table: Any
    sheets: list[str]
    mapping: Any
    values: dict[str, list[str]]


def distinct_values(table: Any, limit: int = MAX_CHOICES) -> dict[str, list[str]]:
    """Per column, its values exactly as the mapping compares them, most frequent first.

    The engine's ``distinct_values`` decides the spelling ("1" for 1.0, missing tokens left
    out), so a chosen positive value or reference group always matches. Runs in the load
    worker; a column the engine cannot resolve (a duplicated header) simply gets no list.
    """
    from assessment.errors import DataError
    from assessment.evaluation.mapping import distinct_values as engine_values

    out: dict[str, list[str]] = {}
    for name in table.columns:
        try:
            out[name] = [text for text, _count in engine_values(table, name, limit=limit)]
        except DataError:
            continue
    return out
