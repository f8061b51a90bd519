"""Errors that the command line reports to the user as a clear message with exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is and what was expected there.

    ``column`` names the field: a table's column, a study file's key, or a command-line
    option (``--out``); the message calls each by its own name. ``kind`` names what the
    field is where none of these fits (a notebook's ``parameter``). ``more_rows`` marks a
    check's count line: the number of its failing rows not listed one by one.
    """

    file: str | None
    line: int | None
    column: str | None
    expected: str
    found: str | None = None
    kind: str | None = None
    more_rows: int | None = None

    def _column_kind(self) -> str:
        if self.kind:
            return self.kind
        if self.column.startswith("-"):
            return "option"
        if str(self.file or "").lower().endswith((".yaml", ".yml")):
            return "key"
        return "column"

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"{self._column_kind()} {self.column!r}")
        prefix = ", ".join(where)
        found = f" (found {self.found!r})" if self.found is not None else ""
        return (
            f"{prefix}: expected {self.expected}{found}"
            if prefix
            else f"expected {self.expected}{found}"
        )


def not_utf8_problem(file: str, data: bytes, start: int) -> Problem:
    """The problem of a file whose byte ``start`` of ``data`` is the first that is not UTF-8:
    its line, and in ``found`` the byte and its column (in characters, a leading byte-order
    mark not counted), which an editor shows where a byte offset means nothing.

    Parameters
    ----------
    file : str
        The file's name, for the message.
    data : bytes
        The file's bytes.
    start : int
        Offset in ``data`` of the first byte that is not UTF-8 (``UnicodeDecodeError.start``).

    Returns
    -------
    Problem
    """
    line_start = data.rfind(b"\n", 0, start) + 1
    before = data[line_start:start]
    if line_start == 0:
        before = before.removeprefix(b"\xef\xbb\xbf")
    column = len(before.decode("utf-8")) + 1  # the line decodes up to the first bad byte
    return Problem(
        file,
        data.count(b"\n", 0, start) + 1,
        None,
        "UTF-8 text (re-save the file as UTF-8)",
        f"byte 0x{data[start]:02X} at column {column}",
    )


def parameter_kind(name: str) -> str | None:
    """The ``kind`` of a :class:`Problem` about a value given to a function rather than read
    from a file: None for a command's option (``--quarter``, named "option" from its dashes),
    else ``"parameter"`` (a notebook's or a function's), which is no table's column.

    Parameters
    ----------
    name : str
        The option or parameter, e.g. ``--quarter`` or ``quarter``.

    Returns
    -------
    str or None
    """
    return None if name.startswith("-") else "parameter"


class InputError(ValueError):
    """Input that cannot be used as given.

    Carries every problem found, so that a user fixes them all in one pass rather than one
    per run. The command line prints them and exits with code 2.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems = list(problems or [])
        self.message = message
        super().__init__(self.render())

    def render(self, limit: int = 20) -> str:
        """The message and at most ``limit`` problems, one a line, then how many were left
        out.

        A check's count line (``more_rows``) is never left out: it alone says how many rows
        fail that check (a file whose every ``best`` was "x" had shown 20 of its 8,351
        failing rows and "... and 31 more problems").

        Parameters
        ----------
        limit : int, optional
            Problems listed one by one (20 by default); count lines come on top of these.

        Returns
        -------
        str
            Lines joined with newlines, each problem indented as ``  - ...``.
        """
        lines = [self.message]
        shown = self.problems[:limit]
        counts = [p for p in self.problems[limit:] if p.more_rows is not None]
        for problem in [*shown, *counts]:
            lines.append(f"  - {problem}")
        left_out = len(self.problems) - len(shown) - len(counts)
        if left_out:
            lines.append(f"  ... and {left_out} more problems")
        return "\n".join(lines)


class ModelError(RuntimeError):
    """A model could not be fitted or simulated, with the reason in plain words."""
