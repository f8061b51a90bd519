"""Read one export in Arrow record batches: convert, validate and count each batch as it comes.

A two-million-row ACLED export is close to a gigabyte of text. Read whole, Arrow holds every
parsed block while it builds the table, pandas adds its own copies, and the schema checks add
boolean masks the length of the file: about four gigabytes at the peak. Here the file is read
with :func:`pyarrow.csv.open_csv` in blocks; a background thread reads the next chunk while this
one is converted to canonical columns and checked against :data:`analysis.events.ROW_SCHEMA`,
so only the canonical columns of the rows read so far are held, plus one chunk in flight.

Problems keep the position of their row in the whole file (``Problems.offset``), so they are
pooled over the batches and reported once, with the same caps and line numbers as a whole-file
check: lines are counted from the file (quoted newlines included) only when something failed.
The only check across rows, unique event ids, runs once over the whole id column at the end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import progress
from analysis.events import CANONICAL_COLUMNS, duplicate_id_rows, row_failure_rows
from analysis.sources.common import (
    MAX_SHOWN,
    Problems,
    _parse_error,
    _settle_extras,
    _string_mapper,
    nul_byte_error,
)

#: Bytes Arrow parses at a time: 1 MiB took a fifth less CPU here than 4 MiB (cache-sized).
BLOCK_SIZE = 1 << 20
#: Rows converted and validated together: large enough that pandas and pandera's fixed cost
#: per call is small against the work, small enough that one chunk in flight is cheap.
CHUNK_ROWS = 1 << 18

#: ``convert(chunk, problems)`` -> canonical columns of the chunk and its quality counts.
Convert = Callable[[pa.Table, Problems], tuple[dict[str, pd.Series], dict[str, int]]]


@dataclass(frozen=True)
class Batched:
    """Canonical events of one file read batch by batch, before the whole-file checks."""

    frame: pd.DataFrame
    quality: dict[str, int]
    failures: pd.DataFrame


class _Restart(Exception):
    """Read the file again: a quoted newline or a long field met the chunker ("chunker"), or
    a number did not convert ("number")."""

    def __init__(self, reason: str, error: Exception) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


def read_batched(
    path: Path,
    header: list[str],
    types: dict[str, pa.DataType],
    expected: dict[str, str],
    extras: list[tuple[str, str]],
    problems: Problems,
    convert: Convert,
) -> Batched:
    """Read ``path`` chunk by chunk, converting each with ``convert`` and validating it.

    Parameters
    ----------
    path : pathlib.Path
    header : list of str
        The header row as written.
    types : dict
        Column as written -> ``pa.string()`` or ``pa.float64()``. Numbers are read as text and
        converted per chunk, so that a value that is not a number is reported with its row
        instead of stopping the stream.
    expected : dict
        Numeric column as written -> the expected form, for problems.
    extras : list of (str, str)
        Unmapped columns to keep (name as written, output name); read as dictionaries and
        settled into numbers, categories or text once the whole column is known.
    problems : Problems
        Collects reader problems by position in the file.
    convert : callable
        The reader's mapping of one chunk to canonical columns (see :data:`Convert`).

    Returns
    -------
    Batched
        The canonical frame with the extras after it, the summed quality counts and the
        schema failures of every row (not yet reported).
    """
    nul = nul_byte_error(path)
    if nul is not None:
        raise nul
    numeric = {name for name, kind in types.items() if kind != pa.string()}
    dictionary = pa.dictionary(pa.int32(), pa.string())
    extra_types = {raw: dictionary for raw, _ in extras if raw not in types}

    def options(numbers_as_text: bool) -> pacsv.ConvertOptions:
        kinds = {n: pa.string() if numbers_as_text else kind for n, kind in types.items()}
        # an extra may also be read for the reader (ACLED's time_precision): read it once
        kinds.update(extra_types)
        return pacsv.ConvertOptions(
            include_columns=list(kinds),
            column_types=kinds,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )

    # Quoted newlines (multi-line notes) need Arrow's slower newline-aware chunking. Try the
    # fast chunker first: when a quoted newline meets a block boundary Arrow stops with "got
    # out of sync with chunker" rather than mis-splitting a record, and the file is read again.
    # Numbers are parsed by Arrow's CSV converter; when one does not convert, the stream stops,
    # and the file is read again with numbers as text, converted and reported per chunk.
    newlines = False
    block = BLOCK_SIZE
    numbers_as_text = False
    while True:
        problems.reset()
        parse = pacsv.ParseOptions(newlines_in_values=newlines)
        try:
            return _read(path, header, parse, block, options(numbers_as_text), numeric, expected,
                         extras, problems, convert)  # fmt: skip
        except _Restart as again:
            if again.reason == "number" and not numbers_as_text:
                numbers_as_text = True
            elif again.reason == "chunker" and not newlines:
                newlines = True
            elif again.reason == "chunker" and block <= path.stat().st_size:
                # a field longer than a block (a pasted report in `notes`): one block
                block = path.stat().st_size + 1
            else:
                raise again.error from None


def _read(
    path: Path,
    header: list[str],
    parse: pacsv.ParseOptions,
    block: int,
    convert_options: pacsv.ConvertOptions,
    numeric: set[str],
    expected: dict[str, str],
    extras: list[tuple[str, str]],
    problems: Problems,
    convert: Convert,
) -> Batched:
    read = pacsv.ReadOptions(block_size=int(min(block, 2**31 - 1)))
    frames: list[pd.DataFrame] = []
    extra_tables: list[pa.Table] = []
    failures: list[pd.DataFrame] = []
    quality: dict[str, int] = {}
    offset = 0
    size_mb = path.stat().st_size / 1e6
    with progress.bar(total=round(size_mb, 1), stage="ingest", unit="MB") as bar:
        for chunk, read_mb in _chunks(path, header, read, parse, convert_options):
            bar.update(round(read_mb, 1) - bar.n if read_mb <= size_mb else 0)
            problems.offset = offset
            chunk = _numbers(chunk, numeric, expected, problems)
            columns, counts = convert(chunk, problems)
            for reason, count in counts.items():
                quality[reason] = quality.get(reason, 0) + count
            frame = pd.DataFrame({c: columns[c] for c in CANONICAL_COLUMNS}, copy=False)
            failures.append(row_failure_rows(frame, offset))
            frames.append(frame)
            if extras:
                extra_tables.append(chunk.select([raw for raw, _ in extras]))
            offset += chunk.num_rows
    problems.offset = 0
    frame = _concat(frames)
    if extras and len(frame):
        encoded = [raw for raw, _ in extras if raw not in numeric]
        table = _settle_extras(pa.concat_tables(extra_tables), encoded)
        for raw, new in extras:
            frame[new] = table.column(raw).to_pandas(types_mapper=_string_mapper)
    pooled = [f for f in failures if len(f)]
    if len(frame):
        pooled.append(duplicate_id_rows(frame))
    rows = pd.concat(pooled, ignore_index=True) if pooled else failures[0] if failures else None
    return Batched(frame, quality, rows if rows is not None else _no_failures())


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame({"column": [], "check": [], "position": [], "found": []})


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in CANONICAL_COLUMNS})
    if len(frames) == 1:
        return frames[0]
    # Arrow-backed text columns are concatenated as chunked arrays, without copying the text
    return pd.concat(frames, ignore_index=True)


def _chunks(
    path: Path,
    header: list[str],
    read: pacsv.ReadOptions,
    parse: pacsv.ParseOptions,
    convert_options: pacsv.ConvertOptions,
) -> Iterator[tuple[pa.Table, float]]:
    """Tables of about :data:`CHUNK_ROWS` rows, read one ahead on a background thread.

    Arrow parses with the GIL released, so reading the next chunk overlaps the conversion and
    checks of this one; the queue holds one chunk, which bounds the memory in flight.
    """
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            with pa.OSFile(str(path), "rb") as source:
                reader = pacsv.open_csv(
                    source, read_options=read, parse_options=parse, convert_options=convert_options
                )
                pending: list[pa.RecordBatch] = []
                rows = 0
                for batch in reader:
                    pending.append(batch)
                    rows += batch.num_rows
                    if rows >= CHUNK_ROWS:
                        if not _put(
                            handoff, stop, ("chunk", (_whole(pending), source.tell() / 1e6))
                        ):
                            return
                        pending, rows = [], 0
                if pending:
                    _put(handoff, stop, ("chunk", (_whole(pending), source.tell() / 1e6)))
            _put(handoff, stop, ("done", None))
        except BaseException as exc:  # handed to the consumer, which raises it
            _put(handoff, stop, ("error", exc))

    worker = threading.Thread(target=produce, name="csv-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = handoff.get()
            if kind == "done":
                return
            if kind == "error":
                _raise_read_error(path, header, payload)  # type: ignore[arg-type]
            table, read_mb = payload  # type: ignore[misc]
            yield table, read_mb
    finally:
        stop.set()
        worker.join()


def _whole(batches: list[pa.RecordBatch]) -> pa.Table:
    # One contiguous array per column, made here on the reading thread (Arrow releases the
    # GIL): pandas and pandera then work on one array per column instead of hundreds.
    return pa.Table.from_batches(batches).combine_chunks()


def _put(handoff: queue.Queue, stop: threading.Event, item: tuple[str, object]) -> bool:
    while not stop.is_set():
        try:
            handoff.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _raise_read_error(path: Path, header: list[str], exc: BaseException) -> None:
    if isinstance(exc, pa.ArrowInvalid):
        text = str(exc)
        if "out of sync" in text or "straddl" in text:
            raise _Restart("chunker", _parse_error(path, exc, len(header))) from None
        if "conversion error" in text.lower():
            raise _Restart("number", exc) from None
        raise _parse_error(path, exc, len(header)) from None
    raise exc


def _numbers(
    chunk: pa.Table, numeric: set[str], expected: dict[str, str], problems: Problems
) -> pa.Table:
    """Convert the numeric columns of a chunk; record the values that are not numbers."""
    for name in numeric:
        index = chunk.column_names.index(name)
        column = chunk.column(index)
        if column.type == pa.float64():
            continue
        try:
            values = pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raw = column.to_pandas(types_mapper=_string_mapper)
            parsed = pd.to_numeric(raw.str.strip(), errors="coerce")
            bad = np.flatnonzero((raw.notna() & parsed.isna()).to_numpy())
            shown = [str(v) for v in raw.iloc[bad[:MAX_SHOWN]]]
            problems.add(name, bad, shown, expected[name])
            values = pa.array(parsed.to_numpy(dtype=float), from_pandas=True)
        chunk = chunk.set_column(index, name, values)
    return chunk
