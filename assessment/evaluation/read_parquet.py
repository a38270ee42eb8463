"""Parquet reading: footer, column count, flat column types and row-group sizes checked from
the metadata, then the rows streamed in batches with text read as dictionaries (measured
before they are expanded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from assessment.errors import DataError
from assessment.evaluation.limits import ReadLimits, over_limit
from assessment.evaluation.mapping import LoadedTable
from assessment.evaluation.read_common import MiB, duplicates_from_raw, fd_path, first_line, mangle
from assessment.fileio import mb

#: Largest Parquet footer (metadata) parsed; real files have kilobytes to a few megabytes.
_MAX_PARQUET_FOOTER = 64 * MiB


_PARQUET_BATCH = 1 << 16


def _is_text(t: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def _parquet_column_bytes(col: Any, name: str, path: Path, limits: ReadLimits) -> int:
    """Bytes one batch's column takes once expanded; refuses a text cell over the limit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(col.type):
        return int(col.nbytes)
    if not _is_text(col.type.value_type):
        return int(col.nbytes)
    lengths = pc.binary_length(col.dictionary)
    longest = pc.max(lengths).as_py() or 0
    if longest > limits.cell_bytes:
        raise over_limit(
            path.name,
            f"a cell of column {name!r} holds",
            mb(longest),
            mb(limits.cell_bytes),
            "max_cell_kb",
            longest / 1024,
        )
    expanded = pc.sum(pc.take(lengths, col.indices)).as_py() or 0
    return int(expanded) + int(col.indices.nbytes)


def _parquet_type_problem(t: Any) -> str | None:
    """Why a column type cannot be read as one table column (None when it can)."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _parquet_type_problem(t.value_type)
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_struct(t)
        or pa.types.is_map(t)
        or pa.types.is_union(t)
        or getattr(pa.types, "is_list_view", lambda _t: False)(t)
        or getattr(pa.types, "is_large_list_view", lambda _t: False)(t)
    ):
        return f"the nested type {t}"
    if isinstance(t, pa.ExtensionType):
        return f"the extension type {t}"
    return None


def read_parquet(
    handle: BinaryIO, size: int, path: Path, sha: str, limits: ReadLimits
) -> LoadedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def unreadable(exc: BaseException) -> DataError:
        return DataError(
            f"{path.name} is not a readable Parquet file ({first_line(exc)[:160]}); "
            "export it again."
        )

    if size < 12:
        raise DataError(f"{path.name} is not a readable Parquet file (too short); export it again.")
    handle.seek(size - 8)
    tail = handle.read(8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] != b"PAR1" or footer > size - 12:
        raise DataError(
            f"{path.name} is not a readable Parquet file (the end of the file is missing: it "
            "may be truncated); export it again."
        )
    if footer > _MAX_PARQUET_FOOTER:
        raise DataError(
            f"{path.name}: its Parquet metadata is {mb(footer)}, more than the "
            f"{mb(_MAX_PARQUET_FOOTER)} any data file needs; export it again with fewer "
            "row groups."
        )
    try:
        schema = pq.ParquetFile(fd_path(handle, path)).schema_arrow
        as_dictionary = [f.name for f in schema if _is_text(f.type)]
        pf = pq.ParquetFile(fd_path(handle, path), read_dictionary=as_dictionary)
        meta = pf.metadata
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise unreadable(exc) from exc
    for f in schema:
        problem = _parquet_type_problem(f.type)
        if problem is not None:
            raise DataError(
                f"{path.name}: column {f.name!r} has {problem}; Probity reads flat columns "
                "(numbers, text, dates) only. Flatten or drop that column and export again."
            )
    columns = len(schema)
    if columns > limits.max_columns:
        raise over_limit(
            path.name,
            "the file has",
            f"{columns:,} columns",
            f"{limits.max_columns:,}",
            "max_columns",
            columns,
        )
    rows = meta.num_rows
    if rows * max(columns, 1) > limits.max_cells:
        raise over_limit(
            path.name,
            "the file holds",
            f"{rows * columns:,} cells ({rows:,} rows x {columns:,} columns)",
            f"{limits.max_cells:,} cells",
            "max_cells",
            rows * columns,
        )
    unpacked = 0
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        chunks = sum(max(rg.column(j).total_uncompressed_size, 0) for j in range(rg.num_columns))
        unpacked += max(rg.total_byte_size, chunks)
    if unpacked > limits.unpacked_bytes:
        raise over_limit(
            path.name,
            "its data unpacks to",
            mb(unpacked),
            mb(limits.unpacked_bytes),
            "max_unpacked_mb",
            unpacked / MiB,
        )
    # Stream the rows in batches. Text columns are read as dictionaries, so a column of one
    # long string repeated a million times (tiny in the metadata, whose sizes are those of the
    # encoded pages) is measured before it is expanded; the expanded size counts against the
    # unpacked limit.
    batches = []
    total = 0
    try:
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH):
            for name, col in zip(batch.schema.names, batch.columns, strict=True):
                total += _parquet_column_bytes(col, name, path, limits)
                if total > limits.unpacked_bytes:
                    raise over_limit(
                        path.name,
                        "its data unpacks to more than",
                        mb(limits.unpacked_bytes),
                        mb(limits.unpacked_bytes),
                        "max_unpacked_mb",
                        None,
                    )
            batches.append(batch)
        if not batches:
            table = schema.empty_table()
        else:  # expand the text columns read as dictionaries, keep the pandas metadata
            table = pa.Table.from_batches(batches)
            for i, name in enumerate(table.column_names):
                if name in as_dictionary:
                    column = table.column(i)
                    table = table.set_column(i, name, column.cast(column.type.value_type))
            table = table.replace_schema_metadata(schema.metadata)
    except DataError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise unreadable(exc) from exc
    raw = [str(n) for n in table.schema.names]
    cols = mangle(raw)
    table = table.rename_columns(cols)
    try:
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise unreadable(exc) from exc
    # Arrow's allocator keeps the freed batches (≈ 50 bytes per row) unless asked to return them.
    del table, batches
    pa.default_memory_pool().release_unused()
    return LoadedTable(
        frame=frame,
        file_name=path.name,
        sha256=sha,
        rows_read=int(frame.shape[0]),
        format="parquet",
        duplicates=duplicates_from_raw(raw, cols),
    )
