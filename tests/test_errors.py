"""How a problem names where it is: a table's column, a study file's key, an option."""

from analysis.errors import InputError, Problem


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
