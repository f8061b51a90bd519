"""Project paths and the Study: one YAML file that names everything a report needs.

A study is validated on load, and every problem is reported at once with the key it concerns:
unknown keys, wrong types, missing data files, unknown countries or regions, a window that ends
before it starts. YAML is read with the safe loader, so tags that try to build Python objects
are refused.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from analysis import periods
from analysis.errors import InputError, Problem, not_utf8_problem
from analysis.models.risk import MIN_SURGE_EVENTS

# The project layout an analyst works in (what `conflict-trends init` scaffolds), relative to
# the current folder: an installed package has no checkout to anchor paths to.
DATA_RAW = Path("data") / "raw"
DATA_PROCESSED = Path("data") / "processed"

_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits and hyphens only.

    Parameters
    ----------
    text : str
        Any text (converted with ``str``); accents are dropped, other runs of characters become
        one hyphen.

    Returns
    -------
    str
        At most 80 characters; ``"unnamed"`` when nothing is left.
    """
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = _SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:80] or "unnamed"


class Alerts(BaseModel):
    """When the quarterly overview raises an alert for a region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    surge_factor: float = Field(
        2.0, gt=1.0, description="a surge is at least this times the last-12-period mean"
    )
    probability: float = Field(0.5, gt=0.0, lt=1.0, description="alert when P(surge) passes this")
    # strict: YAML's `true` or 2.5 would otherwise pass as 1 or fail only for the fraction; a
    # floor of 0 would make every path with no events a surge
    min_events: int = Field(
        MIN_SURGE_EVENTS,
        ge=1,
        strict=True,
        description="a surge is also at least this many events over the next 3 periods (a "
        "sparse region's doubling of 1-2 events is within its noise)",
    )


#: The message of an input error over :meth:`Study.comparison_problems`.
COMPARISON_PROBLEM = "a comparison period is outside the study's window or not one of its periods"


class Study(BaseModel):
    """A study: data, selection, window and the questions its reports answer.

    Country and region references are normalised on load: ``countries`` and
    ``spillover_targets`` become ISO 3166-1 alpha-3 codes, ``focus`` ISO 3166-2 codes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    data: list[Path] = Field(min_length=1)
    source: Literal["auto", "ucdp", "acled", "csv"] = "auto"
    actors: list[str] = Field(default_factory=list)
    include_predecessors: bool = False
    event_types: list[str] = Field(default_factory=list)
    countries: list[str] = Field(min_length=1)
    focus: list[str] = Field(default_factory=list)
    start: str
    end: str
    data_from: str | None = Field(
        None,
        description="the first month (YYYY-MM) the data files cover, where it is earlier than "
        "their earliest event (an extract whose first months were quiet)",
    )
    data_through: str | None = Field(
        None,
        description="the last month (YYYY-MM) the data files cover, where it is later than "
        "their latest event (an extract whose last months were quiet)",
    )
    freq: Literal["month", "quarter"] = "month"
    horizon: int = Field(6, ge=1, le=36)
    onset_quiet_periods: int | None = Field(
        None,
        ge=1,
        le=120,
        description="periods without an event that make a unit quiet for onset forecasts "
        "(default one year: 12 months or 4 quarters)",
    )
    compare: list[tuple[str, str]] = Field(default_factory=list)
    spillover_targets: list[str] = Field(default_factory=list)
    seed: int = Field(20240101, ge=0, lt=2**32)
    boundaries: Path | None = None
    alerts: Alerts = Field(default_factory=Alerts)
    synthetic: bool = False
    attribution: str = Field(
        "",
        max_length=1000,
        description="data source, version and licence, shown in every report's Provenance section",
    )
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("start", "end", "data_from", "data_through", mode="before")
    @classmethod
    def _month_text(cls, value: Any) -> Any:
        # YAML reads 2018-01-01 as a date and 2018 as a number: pydantic's "a valid string"
        # did not say what to write
        if value is None or isinstance(value, str):
            return value
        raise ValueError("a month as YYYY-MM, e.g. 2021-01")

    @field_validator("start", "end", "data_from", "data_through")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not periods.is_month(str(value)):
            raise ValueError("a month as YYYY-MM, e.g. 2021-01")
        return str(value)

    @field_validator("compare", mode="before")
    @classmethod
    def _compare(cls, value: Any) -> Any:
        pairs = []
        for pair in value or []:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(
                    "each comparison is a pair [period_a, period_b], e.g. [2021, 2024]"
                )
            a, b = (str(p) for p in pair)
            for p in (a, b):
                if not periods.is_window(p):
                    raise ValueError(
                        f"{p!r} is not a period: use YYYY, YYYY-MM, YYYYQn or YYYY-MM..YYYY-MM"
                    )
            why = periods.comparison_order(a, b)
            if why:
                raise ValueError(f"{why} (pair [{a}, {b}])")
            pairs.append((a, b))
        return pairs

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, value: str, info: ValidationInfo) -> str:
        # on the `end` key, so the message names it (a model-level check named no key)
        start = info.data.get("start")
        if start is not None and value < start:
            raise ValueError(f"an end month not before the start ({start})")
        return value

    def periods_outside(self, pairs: list[tuple[str, str]], key: str = "compare") -> list[Problem]:
        """A problem for each period of ``pairs`` outside the study's window (``key`` names
        where they came from: the study's ``compare`` or the ``--compare`` option).

        The growth command had stopped on such a period with "period 2031 ... is outside the
        panel window", naming neither the file nor the key; the reports leave such a
        comparison out (:func:`analysis.as_of.usable_comparisons`).

        Parameters
        ----------
        pairs : list of (str, str)
            Comparisons as pairs of periods (``YYYY``, ``YYYYQn``, ``YYYY-MM`` or
            ``YYYY-MM..YYYY-MM``).
        key : str, optional
            The field the problems name: ``"compare"`` (the default) or ``"--compare"``.

        Returns
        -------
        list of Problem
            Empty when every period lies within ``start``..``end``.
        """
        first = periods.parse_month(self.start)
        after = periods.period_end(periods.parse_month(self.end), "month")
        file = str(self.path) if self.path else None
        return [
            Problem(
                file, None, key, f"periods inside the study's window {self.start}..{self.end}", p
            )  # fmt: skip
            for pair in pairs
            for p in pair
            if (w := periods.parse_window(p)).start < first or w.end > after
        ]

    def comparison_problems(
        self, pairs: list[tuple[str, str]], key: str = "compare"
    ) -> list[Problem]:
        """:meth:`periods_outside` and :meth:`periods_misaligned` together: every problem of
        ``pairs`` against the study's window and periods (`growth` and the reports' check
        refuse the same comparisons with the same words, :data:`COMPARISON_PROBLEM`).

        Parameters
        ----------
        pairs : list of (str, str)
            Comparisons as pairs of periods (``YYYY``, ``YYYYQn``, ``YYYY-MM`` or
            ``YYYY-MM..YYYY-MM``).
        key : str, optional
            The field the problems name: ``"compare"`` (the default) or ``"--compare"``.

        Returns
        -------
        list of Problem
            The periods outside the window first, then the misaligned ones.
        """
        return [*self.periods_outside(pairs, key), *self.periods_misaligned(pairs, key)]

    def periods_misaligned(
        self, pairs: list[tuple[str, str]], key: str = "compare"
    ) -> list[Problem]:
        """A problem for each period of ``pairs`` that a quarterly study cannot count: one
        that does not start and end with a quarter (``2021-02``), named with where it came
        from. The growth command had stopped with "period 2021-02 does not align with
        quarters", naming neither the option nor the file.

        Parameters
        ----------
        pairs : list of (str, str)
            Comparisons as pairs of periods (``YYYY``, ``YYYYQn``, ``YYYY-MM`` or
            ``YYYY-MM..YYYY-MM``).
        key : str, optional
            The field the problems name: ``"compare"`` (the default) or ``"--compare"``.

        Returns
        -------
        list of Problem
            Always empty for a monthly study.
        """
        if self.freq != "quarter":
            return []
        file = str(self.path) if self.path else None
        return [
            Problem(file, None, key, "years or quarters (the study's periods are quarters)", p)
            for pair in pairs
            for p in pair
            if periods.misaligned_with_quarters(periods.parse_window(p))
        ]

    def window_misaligned(self) -> list[Problem]:
        """A problem for a quarterly study's ``start`` or ``end`` that cuts a quarter
        (:func:`analysis.periods.quarter_window_problems`)."""
        if self.freq != "quarter":
            return []
        file = str(self.path) if self.path else None
        return periods.quarter_window_problems(self.start, self.end, file=file)

    @property
    def quiet_periods(self) -> int:
        """Periods without an event that make a unit quiet (onset target), default one year."""
        if self.onset_quiet_periods is not None:
            return self.onset_quiet_periods
        return 12 if self.freq == "month" else 4

    @property
    def slug(self) -> str:
        """File-name-safe name of the study (from its file name, else its title)."""
        return slugify(self.path.stem if self.path else self.title)

    def input_files(self) -> list[Path]:
        """The files a command on this study reads: the study file, its data files and its
        boundary file (an ``--out`` may name none of them, :func:`analysis.io.require_writable`)."""
        files = [self.path] if self.path else []
        return [*files, *self.data_files()]

    def data_files(self) -> list[Path]:
        """The files whose bytes the study's results depend on besides the study file: its
        data files and its boundary file, if it names one (an edited boundary file had left
        reports and their cached results as they were, even with ``--force``)."""
        return [*self.data, *([self.boundaries] if self.boundaries else [])]

    def parameters(self) -> dict[str, Any]:
        """The study as plain JSON-ready values, for provenance."""
        data = self.model_dump(mode="json")
        data["path"] = str(self.path) if self.path else None
        return data


def _resolve_names(study: Study) -> Study:
    """Normalise countries and regions against the boundaries; collect every problem."""
    from analysis import geography

    boundaries = (
        geography.load_boundaries(study.boundaries)
        if study.boundaries
        else geography.load_boundaries()
    )
    lookup = boundaries.country_codes()
    problems: list[Problem] = []
    file = str(study.path) if study.path else None

    def countries_of(key: str, values: list[str]) -> list[str]:
        codes = []
        for value in values:
            code = lookup.get(geography.normalise_name(value))
            if code is None:
                problems.append(
                    Problem(file, None, key, "a country name or ISO3 code of the boundaries", value)
                )
            elif code not in codes:
                codes.append(code)
        return codes

    countries = countries_of("countries", study.countries)
    # with a country unknown, "not among the study's countries" would send the user to fix
    # a focus region or a target that may be right
    all_countries = not problems
    targets = countries_of("spillover_targets", study.spillover_targets)
    focus = []
    named: dict[str, str] = {}  # a focus region -> the entry that first named it
    country_of = dict(
        zip(boundaries.regions["region_id"], boundaries.regions["country"], strict=True)
    )
    for value in study.focus:
        try:
            region = geography.resolve_region(value, boundaries)
        except InputError as exc:
            problems.extend(Problem(file, None, "focus", p.expected, p.found) for p in exc.problems)
            continue
        if region in named:
            # refused, not merged: `[Kayes, ML-1]` had given the growth table two rows and
            # the report two region reports of Kayes, and dropping one would edit the study
            first = named[region]
            found = (
                f"{value} twice ({region})"
                if first == value
                else f"{first} and {value}, both {region}"
            )
            problems.append(Problem(file, None, "focus", "each region once", found))
            continue
        named[region] = value
        if all_countries and country_of.get(region) not in countries:
            # its events would never be read: the panel holds the study's countries only
            where = f"{value} ({region}, {country_of.get(region)})"
            expected = f"a region of the study's countries ({', '.join(countries)})"
            problems.append(Problem(file, None, "focus", expected, where))
        focus.append(region)
    for code in targets:
        if all_countries and code not in countries:
            problems.append(
                Problem(file, None, "spillover_targets", "a country also listed under countries "
                        "(the spillover model needs its events)", code)
            )  # fmt: skip
    problems += study.periods_misaligned([tuple(p) for p in study.compare])
    problems += study.window_misaligned()
    if problems:
        raise InputError(f"invalid study {file or study.title}", problems)
    return study.model_copy(
        update={"countries": countries, "spillover_targets": targets, "focus": focus}
    )


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_variables(text: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` with environment variables.

    A study names its data as it is on the author's machine by default and lets another
    machine (CI, a colleague) point at its own copy without editing the file, e.g.
    ``${CONFLICT_TRENDS_REAL_DATA:-../data/raw/GEDEvent_v21_1.csv}``.

    Parameters
    ----------
    text : str
        A value of the study file, e.g. a path in ``data`` or ``boundaries``.

    Returns
    -------
    str
        ``text`` with every ``${...}`` replaced (a set but empty variable counts as unset).

    Raises
    ------
    KeyError
        With the variable's name, when it is unset (or empty) and has no default.
    """
    import os

    def replace(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1), "")
        if value:
            return value
        if match.group(2) is not None:
            return match.group(2)
        raise KeyError(match.group(1))

    return _VARIABLE.sub(replace, text)


def _unset_variable(name: str, what: str = "data file", example: str = "events.csv") -> str:
    """What a path naming the unset variable ``name`` expected (a ``data`` entry's or the
    ``boundaries``), with how to set it."""
    return (
        f"the environment variable {name}, which is not set: set it to the {what}'s path "
        f"before the command (export {name}=/path/to/{example}) or give a default in the "
        f"study (${{{name}:-path/to/{example}}})"
    )


# what a too-short list holds, for a message that names it
_ENTRY = {"data": "data file", "countries": "country"}


def _length_message(error: Any, key: str | None) -> str | None:
    """A length limit in plain words (pydantic's "List should have at least 1 item after
    validation, not 0" had followed "expected" as written), or None for another error."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "too_short":
        n = ctx["min_length"]
        return (
            f"at least one {_ENTRY.get(key or '', 'entry')}" if n == 1 else f"at least {n} entries"
        )
    if kind in ("string_too_short", "string_too_long"):
        n = ctx["min_length" if kind == "string_too_short" else "max_length"]
        bound = "at least" if kind == "string_too_short" else "at most"
        return f"text of {bound} {n} character{'' if n == 1 else 's'}"
    return None


def study_from_dict(raw: Any, path: Path | None = None) -> Study:
    """Validate a study given as a mapping (the parsed YAML).

    Relative paths in ``data`` and ``boundaries`` resolve against the YAML file's folder;
    ``data`` entries may name environment variables (:func:`expand_variables`).

    Parameters
    ----------
    raw : Any
        The parsed YAML; anything but a dict is refused.
    path : Path, optional
        The YAML file: relative paths resolve against its folder (the working folder when
        None) and problems name it.

    Returns
    -------
    Study
        With countries and regions resolved against the boundaries.

    Raises
    ------
    InputError
        With one problem per invalid key.
    """
    file = str(path) if path else None
    if not isinstance(raw, dict):
        raise InputError(
            f"invalid study {file or ''}".strip(),
            [
                Problem(
                    file,
                    None,
                    None,
                    "a mapping of keys (title, data, countries, ...)",
                    type(raw).__name__,
                )
            ],
        )
    raw = dict(raw)
    base = path.parent if path else Path.cwd()
    problems: list[Problem] = []
    if isinstance(raw.get("data"), str):
        raw["data"] = [raw["data"]]
    if isinstance(raw.get("data"), list):
        resolved = []
        for item in raw["data"]:
            if not isinstance(item, str):
                resolved.append(item)
                continue
            try:
                expanded = expand_variables(item)
            except KeyError as exc:
                problems.append(Problem(file, None, "data", _unset_variable(exc.args[0]), item))
                # kept as written: dropped, it had left `data` empty and added the validator's
                # "List should have at least 1 item" to the one problem there is
                resolved.append(Path(item))
                continue
            item = expanded
            candidate = Path(item) if Path(item).is_absolute() else (base / item)
            if not item.strip():
                problems.append(Problem(file, None, "data", "a data file's path", "an empty value"))
            elif candidate.is_dir():
                problems.append(Problem(file, None, "data", "a data file, not a folder", item))
            elif not candidate.exists():
                # a relative path is read from the study file's folder, not the working one:
                # say where it was looked for (an analyst had run from the data's folder)
                shown = os.path.normpath(candidate)
                where = "" if Path(item).is_absolute() else f", looked for at {shown}"
                problems.append(
                    Problem(file, None, "data", "an existing data file", f"{item}{where}")
                )
            resolved.append(candidate.resolve() if candidate.exists() else candidate)
        raw["data"] = resolved
    if isinstance(raw.get("boundaries"), str):
        # variables as in `data`: a shared boundaries file lives where the shared data do
        written = raw["boundaries"]
        try:
            candidate = Path(expand_variables(written))
        except KeyError as exc:
            unset = _unset_variable(exc.args[0], "boundaries file", "admin1.geojson")
            problems.append(Problem(file, None, "boundaries", unset, written))
            candidate = Path(written)
        raw["boundaries"] = candidate if candidate.is_absolute() else (base / candidate).resolve()
    raw["path"] = path
    try:
        study = Study.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"]) or None
            # the messages follow "expected": pydantic's own start "Input should be"
            message = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
            if error["type"] == "missing":
                message = "this key, which is required"
            message = _length_message(error, key) or message
            if error["type"] == "extra_forbidden":
                # a misspelt key inside `alerts` lists the alert rule's keys, not the study's
                known = Alerts if error["loc"][:1] == ("alerts",) else Study
                # `path` is set from the file's own location, never written in it
                keys = sorted(set(known.model_fields) - {"path"})
                message = f"one of the known keys ({', '.join(keys)})"
            found = error.get("input")
            # a YAML date is shown as written (2018-01-01), not as datetime.date(2018, 1, 1)
            shown = repr(found) if isinstance(found, str) else str(found)
            found_text = None if isinstance(found, dict) else shown[:80]
            if error["type"] == "extra_forbidden":
                found_text = f"{error['loc'][-1]}: {found_text}"
            problems.append(Problem(file, None, key, message, found_text))
        raise InputError(f"invalid study {file or ''}".strip(), problems) from None
    if problems:
        raise InputError(f"invalid study {file or ''}".strip(), problems)
    return _resolve_names(study)


def load_study(path: str | Path) -> Study:
    """Read and validate a study YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    Study
        Validated, with countries as ISO3 and focus regions as ISO 3166-2 codes.

    Raises
    ------
    InputError
        For a missing or unreadable file, YAML syntax errors, unsafe tags, unknown keys,
        wrong types, missing data files, unknown countries or regions.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(
            "study file not found", [Problem(str(path), None, None, "an existing YAML file")]
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # offsets count the mark
    except UnicodeDecodeError as exc:
        # a title's "Côte d'Ivoire" saved as Latin-1 had been "found 'byte 287'"
        raise InputError(
            "study file is not UTF-8", [not_utf8_problem(str(path), data, exc.start)]
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # PyYAML stops where it notices the error, often lines after the cause: an unclosed
        # "[" on line 4 read as "line 5" alone. Its context names where the construct opened.
        opened = getattr(exc, "context_mark", None)
        context = getattr(exc, "context", None)
        if opened is not None and context and opened.line + 1 != line:
            reason = (
                f"{reason} ({context} opened on line {opened.line + 1}, column {opened.column + 1})"
            )
        # a tag that would construct an object is refused by the safe loader's constructor;
        # anything else is a syntax error, which "no tags" would misdescribe
        wanted = (
            "plain YAML (no tags that construct objects)"
            if isinstance(exc, yaml.constructor.ConstructorError)
            else "valid YAML syntax (an unclosed bracket or quote, or a bad indent, here)"
        )
        raise InputError(
            "study file is not valid YAML",
            [
                Problem(
                    str(path),
                    line,
                    None,
                    wanted,
                    str(reason),
                )
            ],
        ) from None
    lines, twice = _key_lines(text)
    if twice:
        # YAML keeps the last of two values silently: a `horizon: 6` appended below a
        # `horizon: 12` changed the study without a word
        raise InputError(
            "study file has a key twice",
            [Problem(str(path), line, key, "each key once", f"on lines {first} and {line}")
             for key, first, line in twice],
        )  # fmt: skip
    try:
        return study_from_dict(raw, path)
    except InputError as exc:
        raise _at_key_lines(exc, str(path), lines) from None


def _key_lines(text: str) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """The line (1-based) of every key and list item of a YAML document by dotted path
    (``alerts.min_events``, ``data.0``; a key's first line), and (key, first line, repeated
    line) for every key a mapping holds twice."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}, []
    lines: dict[str, int] = {}
    twice: list[tuple[str, int, int]] = []

    def walk(node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name, line = f"{prefix}{key.value}", key.start_mark.line + 1
                if name in lines:
                    twice.append((name, lines[name], line))
                lines.setdefault(name, line)
                walk(value, f"{name}.")
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[f"{prefix}{i}"] = item.start_mark.line + 1
                walk(item, f"{prefix}{i}.")

    if root is not None:
        walk(root, "")
    return lines, twice


def at_study_lines(exc: InputError, study: Study) -> InputError:
    """``exc`` with each problem of ``study``'s file at the line of its key, for checks made
    after the study was loaded (its data select no event, its end runs past the data): they
    had named the key without its line.

    Parameters
    ----------
    exc : InputError
        Problems found after loading; those of other files or already with a line are kept.
    study : Study

    Returns
    -------
    InputError
        A new error, or ``exc`` itself when the study has no file or its file cannot be read.
    """
    if study.path is None:
        return exc
    try:
        text = Path(study.path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return exc
    return _at_key_lines(exc, str(study.path), _key_lines(text)[0])


def _at_key_lines(exc: InputError, file: str, lines: dict[str, int]) -> InputError:
    """``exc`` with each problem of the study file at the line of its key (``lines``, from
    :func:`_key_lines`): the deepest part of a dotted key that the file holds (a key missing
    under ``alerts`` gets the line of ``alerts``; a missing top-level key, none)."""

    def line_of(key: str | None) -> int | None:
        parts = (key or "").split(".")
        for n in range(len(parts), 0, -1):
            found = lines.get(".".join(parts[:n]))
            if found is not None:
                return found
        return None

    problems = [
        dataclasses.replace(p, line=line_of(p.column))
        if p.file == file and p.line is None and p.column
        else p
        for p in exc.problems
    ]
    return InputError(exc.message, problems)
