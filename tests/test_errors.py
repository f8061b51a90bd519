"""How a problem names where it is: a table's column, a study file's key, an option."""

from analysis.errors import InputError, Problem, parameter_kind


def test_a_table_field_is_a_column() -> None:
    problem = Problem("events.csv", 3, "date_start", "a date", "2020-02-30")
    assert (
        str(problem)
        == "events.csv, line 3, column 'date_start': expected a date (found '2020-02-30')"
    )


def test_a_study_file_field_is_a_key() -> None:
    problem = Problem("studies/senegal.yaml", None, "compare", "a comparison, or --compare A:B")
    assert (
        str(problem)
        == "studies/senegal.yaml, key 'compare': expected a comparison, or --compare A:B"
    )
    assert "key 'focus'" in str(Problem("S.YML", None, "focus", "a region"))


def test_a_command_line_field_is_an_option() -> None:
    problem = Problem(None, None, "--out", "a file path (not a folder)")
    assert str(problem) == "option '--out': expected a file path (not a folder)"


def test_the_error_lists_every_problem() -> None:
    error = InputError(
        "bad study",
        [Problem("a.yaml", None, "end", "a month"), Problem(None, None, "--region", "a region")],
    )
    assert str(error).splitlines() == [
        "bad study",
        "  - a.yaml, key 'end': expected a month",
        "  - option '--region': expected a region",
    ]


def test_a_value_given_to_a_function_is_a_parameter_and_an_option_keeps_its_dashes() -> None:
    assert parameter_kind("quarter") == "parameter"
    assert parameter_kind("--quarter") is None  # named "option" from its dashes
    assert str(Problem(None, None, "quarter", "a quarter", kind=parameter_kind("quarter"))) == (
        "parameter 'quarter': expected a quarter"
    )


def test_the_summary_never_cuts_the_count_of_a_checks_failing_rows() -> None:
    """All 8,351 rows of a file failed one check: 50 were listed, then a count line; the
    20-line display had cut the count and said "... and 31 more problems"."""
    rows = [Problem("bad.csv", line, "best", "a whole number", "x") for line in range(2, 52)]
    count = Problem("bad.csv", None, "best", "a whole number",
                    "8301 more rows failing this check, 8351 in all", more_rows=8301)  # fmt: skip
    other = [Problem("bad.csv", 2, "date_start", "a date", "?")]
    lines = InputError("invalid input", [*rows, count, *other]).render(limit=20).splitlines()
    assert lines[1:21] == [f"  - {p}" for p in rows[:20]]
    assert lines[21] == f"  - {count}" and "8351 in all" in lines[21]
    # the rows listed but not shown (30) and the other check's row: counted, not lost
    assert lines[22:] == ["  ... and 31 more problems"]
    # nothing left out: no summary line
    assert InputError("x", [count]).render(limit=20).splitlines() == ["x", f"  - {count}"]
