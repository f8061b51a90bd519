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

One more thread reads the file's bytes once alongside the parsing (:class:`_Scan`): the SHA-256
of the input for the manifest, the NUL-byte check, and the check that the offset where a large
file is split lies outside quoted fields. None of the three delays the start of the parsing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import progress
from analysis.errors import InputError
from analysis.events import CANONICAL_COLUMNS, duplicate_id_rows, id_hashes, row_failure_rows
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
#: Files from this size on are parsed as two halves on two threads.
SPLIT_BYTES = 1 << 26
#: Bytes of the file the scan maps at a time (a multiple of the page size).
SCAN_BYTES = 1 << 25
#: How far behind Arrow's reading a parsing thread releases the mapped file (blocks read
#: ahead and still being parsed stay mapped).
RELEASE_LAG = 1 << 25

#: ``convert(chunk, problems)`` -> canonical columns of the chunk and its quality counts.
Convert = Callable[[pa.Table, Problems], tuple[dict[str, pd.Series], dict[str, int]]]


@dataclass(frozen=True)
class Batched:
    """Canonical events of one file read batch by batch, before the whole-file checks."""

    frame: pd.DataFrame
    quality: dict[str, int]
    failures: pd.DataFrame
    sha256: str | None = None


class _Restart(Exception):
    """Read the file again: a quoted newline or a long field met the chunker ("chunker"), a
    number did not convert ("number"), or a half read on its own failed ("split")."""

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
        The canonical frame with the extras after it, the summed quality counts, the
        schema failures of every row (not yet reported) and the SHA-256 of the file.

    Raises
    ------
    InputError
        For a NUL byte (before any other problem, as the file is binary or corrupted) and
        for a row Arrow cannot parse (with its line).
    """
    split = _split_point(path, header)
    scan = _Scan(path, split)
    try:
        with _gc_paused():
            batched = _read_checked(
                path, header, types, expected, extras, problems, convert, split, scan
            )
        return dataclasses.replace(batched, sha256=scan.sha256())
    finally:
        scan.stop()


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is read.

    Converting a large file allocates many short-lived objects; the collector walked them
    over and over (about a twentieth of the CPU time of an ingest) without finding cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_checked(
    path: Path,
    header: list[str],
    types: dict[str, pa.DataType],
    expected: dict[str, str],
    extras: list[tuple[str, str]],
    problems: Problems,
    convert: Convert,
    split: int | None,
    scan: _Scan,
) -> Batched:
    """Read with restarts; a NUL byte in the file is reported before any other problem."""
    try:
        batched = _read_restarting(
            path, header, types, expected, extras, problems, convert, split, scan
        )
    except Exception:
        if scan.has_nul():
            raise _nul_error(path) from None
        raise
    if scan.has_nul():
        raise _nul_error(path)
    return batched


def _nul_error(path: Path) -> InputError:
    error = nul_byte_error(path)
    assert error is not None  # the scan found one
    return error


def _read_restarting(
    path: Path,
    header: list[str],
    types: dict[str, pa.DataType],
    expected: dict[str, str],
    extras: list[tuple[str, str]],
    problems: Problems,
    convert: Convert,
    split: int | None,
    scan: _Scan,
) -> Batched:
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
    # A large file is read as two halves on two threads, split at a line end; the scan
    # confirms the split lies outside quotes before the first chunk is used, else the file is
    # read as one stream. A malformed row in a half also sends the file back to one stream,
    # which names its line.
    newlines = False
    block = BLOCK_SIZE
    numbers_as_text = False
    while True:
        problems.reset()
        parse = pacsv.ParseOptions(newlines_in_values=newlines)
        reading = _Reading(path, header, pacsv.ReadOptions(block_size=int(min(block, 2**31 - 1))),
                           parse, options(numbers_as_text), split, scan)  # fmt: skip
        try:
            return _read(reading, numeric, expected, extras, problems, convert)
        except _Restart as again:
            if again.reason == "split":
                split = None
            elif again.reason == "number" and not numbers_as_text:
                numbers_as_text = True
            elif again.reason == "chunker" and not newlines:
                newlines = True
            elif again.reason == "chunker" and block <= path.stat().st_size:
                # a field longer than a block (a pasted report in `notes`): one block
                block = path.stat().st_size + 1
            else:
                raise _parse_error(path, again.error, len(header)) from None


@dataclass(frozen=True)
class _Reading:
    """How to read one file: Arrow's options, where to split it (None: one stream) and the
    scan that confirms the split."""

    path: Path
    header: list[str]
    read: pacsv.ReadOptions
    parse: pacsv.ParseOptions
    convert: pacsv.ConvertOptions
    split: int | None
    scan: _Scan


@dataclass
class _Part:
    """What one range of the file gave, chunk by chunk, with positions within the range."""

    problems: Problems
    frames: list[pd.DataFrame] = field(default_factory=list)
    failures: list[pd.DataFrame] = field(default_factory=list)
    extra_tables: list[pa.Table] = field(default_factory=list)
    hashes: list[np.ndarray] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)
    rows: int = 0


@dataclass(frozen=True)
class _Work:
    """How each chunk is converted and checked (the same for every range)."""

    numeric: set[str]
    expected: dict[str, str]
    extras: list[tuple[str, str]]
    convert: Convert


def _read(
    reading: _Reading,
    numeric: set[str],
    expected: dict[str, str],
    extras: list[tuple[str, str]],
    problems: Problems,
    convert: Convert,
) -> Batched:
    work = _Work(numeric, expected, extras, convert)
    parts = _read_parts(reading, work)
    # positions within a range become positions in the file
    offset = 0
    failures: list[pd.DataFrame] = []
    quality: dict[str, int] = {}
    for part in parts:
        problems.merge(part.problems, offset)
        for rows in part.failures:
            if len(rows):
                rows = rows.assign(
                    position=np.where(rows["position"] >= 0, rows["position"] + offset, -1)
                )
            failures.append(rows)
        for reason, count in part.quality.items():
            quality[reason] = quality.get(reason, 0) + count
        offset += part.rows
    frame = _concat([f for part in parts for f in part.frames])
    if extras and len(frame):
        encoded = [raw for raw, _ in extras if raw not in numeric]
        tables = [t for part in parts for t in part.extra_tables]
        table = _settle_extras(pa.concat_tables(tables), encoded)
        for raw, new in extras:
            frame[new] = table.column(raw).to_pandas(types_mapper=_string_mapper)
    pooled = [f for f in failures if len(f)]
    if len(frame):
        hashes = np.concatenate([h for part in parts for h in part.hashes])
        pooled.append(duplicate_id_rows(frame, hashes))
    rows = pd.concat(pooled, ignore_index=True) if pooled else failures[0] if failures else None
    return Batched(frame, quality, rows if rows is not None else _no_failures())


def _convert_chunk(chunk: pa.Table, work: _Work, part: _Part) -> None:
    """Convert, check and count one chunk into ``part``."""
    part.problems.offset = part.rows
    chunk = _numbers(chunk, work.numeric, work.expected, part.problems)
    columns, counts = work.convert(chunk, part.problems)
    for reason, count in counts.items():
        part.quality[reason] = part.quality.get(reason, 0) + count
    frame = pd.DataFrame({c: columns[c] for c in CANONICAL_COLUMNS}, copy=False)
    part.failures.append(row_failure_rows(frame, part.rows))
    part.hashes.append(id_hashes(frame))
    part.frames.append(frame)
    if work.extras:
        part.extra_tables.append(chunk.select([raw for raw, _ in work.extras]))
    part.rows += chunk.num_rows
    part.problems.offset = 0


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame({"column": [], "check": [], "position": [], "found": []})


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in CANONICAL_COLUMNS})
    if len(frames) == 1:
        return frames[0]
    # Arrow-backed text columns are concatenated as chunked arrays, without copying the text
    return pd.concat(frames, ignore_index=True)


def _read_parts(reading: _Reading, work: _Work) -> list[_Part]:
    """Parse the file's ranges on background threads and convert their chunks as they come.

    Arrow parses with the GIL released, so parsing overlaps the conversion and checks of the
    chunks already parsed. Each range has a parsing thread, whose queue holds one chunk (which
    bounds the memory in flight), and its own converter: this thread for the first range, one
    more thread for the second half of a split file. Two converters keep both cores busy to
    the end, where one would still be converting the second half after the parsing ended.
    Each range keeps its own problems by position in the range; :func:`_read` merges them.
    """
    size = reading.path.stat().st_size
    ranges = [(0, size)] if reading.split is None else [(0, reading.split), (reading.split, size)]
    stop = threading.Event()
    queues: list[queue.Queue[tuple[str, object]]] = []
    threads: list[threading.Thread] = []
    for i, (start, end) in enumerate(ranges):
        handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
        worker = threading.Thread(
            target=_produce, args=(reading, start, end, i > 0, handoff, stop), daemon=True
        )
        queues.append(handoff)
        threads.append(worker)
        worker.start()
    parts = [_Part(Problems(reading.path)) for _ in ranges]
    errors: list[BaseException | None] = [None] * len(ranges)
    size_mb = size / 1e6
    consumed = [0.0] * len(ranges)
    lock = threading.Lock()
    with progress.bar(total=round(size_mb, 1), stage="ingest", unit="MB") as bar:

        def advance(i: int, read_mb: float) -> None:
            with lock:
                consumed[i] = read_mb
                total = round(sum(consumed), 1)
                bar.update(total - bar.n if total <= size_mb else 0)

        def consume(i: int) -> None:
            try:
                while True:
                    kind, payload = _get(queues[i], stop)
                    if kind in ("done", "stopped"):
                        return
                    if kind == "error":
                        _raise_read_error(reading, payload)  # type: ignore[arg-type]
                    table, read_mb = payload  # type: ignore[misc]
                    _convert_chunk(table, work, parts[i])
                    advance(i, read_mb)
            except BaseException as exc:  # raised by this thread once every range stopped
                errors[i] = exc
                stop.set()

        try:
            if reading.split is not None and not reading.scan.split_outside_quotes():
                raise _Restart("split", ValueError("split inside a quoted field"))
            helpers = [
                threading.Thread(target=consume, args=(i,), daemon=True)
                for i in range(1, len(ranges))
            ]
            for helper in helpers:
                threads.append(helper)
                helper.start()
            consume(0)
            for helper in helpers:
                helper.join()
        finally:
            stop.set()
            for handoff in queues:  # unblock producers waiting on a full queue
                while not handoff.empty():
                    handoff.get_nowait()
            for thread in threads:
                thread.join()
    # the first range's error names the earlier line; a restart is a restart in either range
    for error in errors:
        if error is not None:
            raise error
    return parts


def _get(handoff: queue.Queue, stop: threading.Event) -> tuple[str, object]:
    # another range failed: stop converting (its producer stops too)
    while not stop.is_set():
        try:
            return handoff.get(timeout=0.1)
        except queue.Empty:
            continue
    return "stopped", None


class _Range:
    """Bytes ``start`` to ``end`` of a file as a native Arrow stream over a memory map.

    Arrow reads the mapped pages itself, without the GIL. A Python file object made every
    block a Python call, a copy, and a buffer whose release waited for the GIL, which the
    converters hold most of the time: the parsing threads stalled behind them. Pages behind
    the parsing are released from the process (:meth:`release_behind`), so the mapping does not
    add the file to the resident memory; the kernel keeps them cached for the scan.
    """

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._handle = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start = start
        self._released = start - start % mmap.PAGESIZE
        self._map: mmap.mmap | None = None
        if end > start:
            self._map = mmap.mmap(self._handle.fileno(), end, access=mmap.ACCESS_READ)
            data = pa.py_buffer(self._map).slice(start, end - start)
        else:
            data = pa.py_buffer(b"")
        self.stream = pa.BufferReader(data)

    @property
    def done(self) -> int:
        """Bytes of the range Arrow has read so far."""
        return self.stream.tell()

    def release_behind(self) -> None:
        """Drop the mapped pages more than :data:`RELEASE_LAG` bytes behind Arrow's reading
        from the process (a page touched again is mapped again from the page cache)."""
        if self._map is None or not hasattr(mmap, "MADV_DONTNEED"):  # not on every platform
            return
        upto = self._start + self.done - RELEASE_LAG
        upto -= upto % mmap.PAGESIZE
        if upto > self._released:
            self._map.madvise(mmap.MADV_DONTNEED, self._released, upto - self._released)
            self._released = upto

    def close(self) -> None:
        self.stream.close()
        if self._map is not None:
            with contextlib.suppress(BufferError):  # a buffer still exported: closed when freed
                self._map.close()
        self._handle.close()


def _produce(
    reading: _Reading,
    start: int,
    end: int,
    headless: bool,
    handoff: queue.Queue,
    stop: threading.Event,
) -> None:
    try:
        source = _Range(reading.path, start, end)
        try:
            read = reading.read
            if headless:  # the second half: the header's names, no header row
                read = pacsv.ReadOptions(block_size=read.block_size, column_names=reading.header)
            reader = pacsv.open_csv(
                source.stream,
                read_options=read,
                parse_options=reading.parse,
                convert_options=reading.convert,
            )
            pending: list[pa.RecordBatch] = []
            rows = 0
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                source.release_behind()
                if rows >= CHUNK_ROWS:
                    if not _put(handoff, stop, ("chunk", (_whole(pending), source.done / 1e6))):
                        return
                    pending, rows = [], 0
            if pending:
                _put(handoff, stop, ("chunk", (_whole(pending), source.done / 1e6)))
            del reader
        finally:
            source.close()
        _put(handoff, stop, ("done", None))
    except BaseException as exc:  # handed to the consumer, which raises it
        _put(handoff, stop, ("error", exc))


def _split_point(path: Path, header: list[str]) -> int | None:
    """The byte offset after the first line end from the middle of a large file, or None.

    The offset is a record start only if it lies outside every quoted field, which
    :meth:`_Scan.split_outside_quotes` confirms. Small files, and headers whose names are not
    unique, are read as one stream.
    """
    size = path.stat().st_size
    if size < SPLIT_BYTES or len(set(header)) != len(header):
        return None
    with open(path, "rb") as handle:
        handle.seek(size // 2)
        rest = handle.read(1 << 20)
        while rest:
            newline = rest.find(b"\n")
            if newline >= 0:
                split = handle.tell() - len(rest) + newline + 1
                return split if split < size else None
            rest = handle.read(1 << 20)
    return None


class _Scan:
    """One pass over a file's bytes on a background thread, alongside the parsing.

    It gives the SHA-256 of the file (for the manifest), whether the file holds a NUL byte,
    and whether the offset ``split`` lies outside every quoted field: an even number of quote
    characters before it (in CSV, quotes open, close or double within quoted fields). hashlib
    and numpy release the GIL on large buffers, so the pass overlaps Arrow's parsing.
    """

    def __init__(self, path: Path, split: int | None) -> None:
        self._path = path
        self._split = split
        self._split_even = False
        self._digest: str | None = None
        self._nul = False
        self._error: BaseException | None = None
        self._split_known = threading.Event()
        self._done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            digest = hashlib.sha256()
            quotes = 0
            is_quote = np.empty(1 << 20, dtype=bool)
            with open(self._path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                for start in range(0, size, SCAN_BYTES):
                    if self._stop.is_set():
                        return
                    n = min(SCAN_BYTES, size - start)
                    # a mapped window is read in place: read() would copy the file once more
                    with mmap.mmap(
                        handle.fileno(), n, offset=start, access=mmap.ACCESS_READ
                    ) as window:
                        with memoryview(window) as view:
                            digest.update(view)
                        if not self._nul and window.find(b"\x00") >= 0:
                            self._nul = True
                        if self._split is not None and not self._split_known.is_set():
                            m = min(n, self._split - start)
                            quotes += _count_quotes(window, m, is_quote)
                            if start + n >= self._split:
                                self._split_even = quotes % 2 == 0
                                self._split_known.set()
            self._digest = digest.hexdigest()
        except BaseException as exc:  # raised by the reader when it asks for a result
            self._error = exc
        finally:
            self._split_known.set()
            self._done.set()

    def _result(self, event: threading.Event) -> None:
        event.wait()
        if self._error is not None:
            raise self._error

    def split_outside_quotes(self) -> bool:
        """Whether the split offset follows an even number of quotes (waits for the scan)."""
        self._result(self._split_known)
        return self._split_even

    def has_nul(self) -> bool:
        """Whether the file holds a NUL byte (waits for the whole scan)."""
        self._result(self._done)
        return self._nul

    def sha256(self) -> str | None:
        """Hex SHA-256 of the file (waits for the whole scan)."""
        self._result(self._done)
        return self._digest

    def stop(self) -> None:
        """Stop reading (the result is no longer needed) and wait for the thread."""
        self._stop.set()
        self._thread.join()


def _count_quotes(window: mmap.mmap, n: int, out: np.ndarray) -> int:
    """Quote characters in the first ``n`` bytes of ``window``.

    Compared a slice at a time into one reused array: a comparison of the whole window made
    a new array of its size each time, in fresh pages the kernel had to zero.
    """
    data = np.frombuffer(window, dtype=np.uint8, count=n)
    step = len(out)
    count = 0
    for lo in range(0, n, step):
        piece = data[lo : lo + step]
        count += int(np.count_nonzero(np.equal(piece, 34, out=out[: len(piece)])))
    return count  # the views of the window end here, before it is closed


def _whole(batches: list[pa.RecordBatch]) -> pa.Table:
    # The batches stay chunks of one table: copying them into one array per column (notes and
    # all) cost fresh memory the kernel had to zero, a tenth of an ingest's CPU. The columns
    # that are computed on are made contiguous where they are converted (dates, numbers, ids).
    return pa.Table.from_batches(batches)


def _put(handoff: queue.Queue, stop: threading.Event, item: tuple[str, object]) -> bool:
    while not stop.is_set():
        try:
            handoff.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _raise_read_error(reading: _Reading, exc: BaseException) -> None:
    if not isinstance(exc, pa.ArrowInvalid):
        raise exc
    text = str(exc)
    if "out of sync" in text or "straddl" in text:
        raise _Restart("chunker", exc) from None
    if "conversion error" in text.lower():
        raise _Restart("number", exc) from None
    if reading.split is not None:  # one stream finds the line of a malformed row
        raise _Restart("split", exc) from None
    raise _parse_error(reading.path, exc, len(reading.header)) from None


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
