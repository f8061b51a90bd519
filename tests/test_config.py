from __future__ import annotations

from pathlib import Path

import pytest

from analysis.config import load_study, slugify, study_from_dict
from analysis.errors import InputError


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "events.csv").write_text("id\n1\n")
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return path


BASE = """
title: Test
data: [events.csv]
countries: [Mali, senegal, MRT]
focus: [Kayes, SN-TC]
start: 2020-01
end: 2021-12
compare: [[2020, 2021], ["2020Q1", "2021Q1"]]
spillover_targets: [Mauritania]
"""


def test_study_normalises_names_and_resolves_paths(tmp_path):
    study = load_study(_write(tmp_path, BASE))
    assert study.countries == ["MLI", "SEN", "MRT"]
    assert study.focus == ["ML-1", "SN-TC"]
    assert study.spillover_targets == ["MRT"]
    assert study.data == [(tmp_path / "events.csv").resolve()]
    assert study.compare == [("2020", "2021"), ("2020Q1", "2021Q1")]
    assert study.freq == "month" and study.horizon == 6
    assert study.slug == "study"


def test_shipped_demo_study_is_valid(demo_study_path):
    study = load_study(demo_study_path)
    assert study.focus == ["ML-1"] and study.synthetic
    assert study.compare == [("2021", "2024")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("colour: blue\n", "colour"),
        ("horizon: many\n", "horizon"),
        ("start: 2020/01\n", "YYYY-MM"),
        ("freq: weekly\n", "freq"),
        ("countries: [Atlantis]\n", "Atlantis"),
        ("focus: [Nowhere]\n", "Nowhere"),
        ("data: [missing.csv]\n", "missing.csv"),
        ("compare: [[2020]]\n", "pair"),
        ("end: 2019-01\n", "not before the start"),
    ],
)
def test_bad_studies_name_the_key(tmp_path, change, message):
    key = change.split(":")[0]
    lines = [line for line in BASE.splitlines() if not line.startswith(key + ":")]
    path = _write(tmp_path, "\n".join(lines) + "\n" + change)
    with pytest.raises(InputError) as info:
        load_study(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_all_problems_reported_at_once(tmp_path):
    path = _write(tmp_path, BASE + "horizon: -1\nfreq: daily\nsurprise: 1\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    assert len(info.value.problems) == 3


def test_study_messages_read_as_sentences(tmp_path):
    """Each problem prints as "expected <what>": the audit found "expected expected YYYY-MM",
    "expected Input should be greater than or equal to 1", "expected end 2024-12 is before
    start 2025-01" and a syntax error described as a forbidden tag."""
    cases = {
        "start: 2020/01\n": "expected a month as YYYY-MM",
        "horizon: 0\n": "expected greater than or equal to 1",
        "end: 2019-01\n": "'end': expected an end month not before the start (2020-01)",
        "countries: [Mali\n": "expected valid YAML syntax",
    }
    for change, words in cases.items():
        key = change.split(":")[0]
        lines = [line for line in BASE.splitlines() if not line.startswith(key + ":")]
        with pytest.raises(InputError) as info:
            load_study(_write(tmp_path, "\n".join(lines) + "\n" + change))
        text = str(info.value)
        assert words in text, text
        assert "expected expected" not in text and "Input should" not in text


def test_comparison_periods_outside_the_window_are_named(tmp_path):
    study = load_study(_write(tmp_path, BASE))
    problems = study.periods_outside([("2020", "2031"), ("2021-06", "2021Q4")])
    assert [(p.column, p.found) for p in problems] == [("compare", "2031")]
    assert "2020-01..2021-12" in str(problems[0]) and str(study.path) in str(problems[0])
    assert study.periods_outside([("2019-12", "2020")], "--compare")[0].column == "--compare"


def test_a_yaml_error_names_where_the_unclosed_construct_opened(tmp_path):
    """PyYAML notices an unclosed "[" on the next key's line: the message had named only that
    line, not the one to fix."""
    lines = [line for line in BASE.splitlines() if not line.startswith("countries:")]
    at = next(i for i, line in enumerate(lines) if line.startswith("data:")) + 1
    lines.insert(at, "countries: [Mali")
    with pytest.raises(InputError, match="not valid YAML") as info:
        load_study(_write(tmp_path, "\n".join(lines) + "\n"))
    (problem,) = info.value.problems
    assert problem.line == at + 2  # where PyYAML noticed it
    assert f"while parsing a flow sequence opened on line {at + 1}, column 12" in problem.found


def test_yaml_tags_that_construct_objects_are_refused(tmp_path):
    path = _write(tmp_path, BASE + "seed: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError, match="not valid YAML") as info:
        load_study(path)
    assert info.value.problems[0].line is not None


def test_not_a_mapping(tmp_path):
    path = _write(tmp_path, "- just\n- a list\n")
    with pytest.raises(InputError, match="mapping"):
        load_study(path)


def test_missing_study_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_study(tmp_path / "nope.yaml")


def test_study_from_dict_without_file():
    with pytest.raises(InputError, match="data"):
        study_from_dict(
            {"title": "x", "data": [], "countries": ["MLI"], "start": "2020-01", "end": "2020-02"}
        )


@pytest.mark.parametrize(
    ("text", "slug"),
    [("Kayes", "kayes"), ("Ségou", "segou"), ("../../etc/passwd", "etc-passwd"), ("", "unnamed"),
     ("MR-13|MR-14|MR-15", "mr-13-mr-14-mr-15")],
)  # fmt: skip
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_data_path_from_an_environment_variable(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "mine.csv").write_text("id\n1\n")
    text = BASE.replace("data: [events.csv]", "data: ['${CT_TEST_DATA:-events.csv}']")
    path = _write(tmp_path, text)
    monkeypatch.delenv("CT_TEST_DATA", raising=False)
    assert load_study(path).data == [(tmp_path / "events.csv").resolve()]  # the default
    monkeypatch.setenv("CT_TEST_DATA", str(other / "mine.csv"))
    assert load_study(path).data == [(other / "mine.csv").resolve()]


def test_unset_variable_without_default_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CT_TEST_UNSET", raising=False)
    path = _write(tmp_path, BASE.replace("data: [events.csv]", "data: ['${CT_TEST_UNSET}']"))
    with pytest.raises(InputError) as exc:
        load_study(path)
    assert "CT_TEST_UNSET" in exc.value.render()


def test_alert_rule_has_a_floor_of_events_by_default(tmp_path):
    from analysis.models.risk import MIN_SURGE_EVENTS

    study = load_study(_write(tmp_path, BASE))
    assert study.alerts.min_events == MIN_SURGE_EVENTS == 3
    study = load_study(_write(tmp_path, BASE + "alerts: {surge_factor: 1.5, min_events: 5}\n"))
    assert (study.alerts.surge_factor, study.alerts.min_events) == (1.5, 5)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("-2", "greater than or equal to 1"),
        ("2.5", "valid integer"),
        ("three", "valid integer"),
        ("true", "valid integer"),  # not silently 1 event
        ("null", "valid integer"),
    ],
)
def test_bad_min_events_names_the_key(tmp_path, value, message):
    path = _write(tmp_path, BASE + f"alerts: {{min_events: {value}}}\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert problem.column == "alerts.min_events"
    assert message in problem.expected


def test_misspelt_alert_key_lists_the_alert_rules_keys(tmp_path):
    path = _write(tmp_path, BASE + "alerts: {min_event: 3}\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert problem.column == "alerts.min_event"
    assert "known keys (min_events, probability, surge_factor)" in problem.expected
    assert problem.found == "min_event: 3"


def test_problems_in_a_study_file_give_the_line_of_their_key(tmp_path):
    path = _write(tmp_path, BASE + "horizon: 0\nalerts:\n  min_evnts: 3\ncolour: red\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    text = path.read_text().splitlines()
    at = {p.column: p.line for p in info.value.problems}
    assert set(at) == {"horizon", "alerts.min_evnts", "colour"}
    for key, line in at.items():
        assert text[line - 1].strip().startswith(key.split(".")[-1] + ":")


def test_a_missing_key_is_named_as_required_and_internal_keys_are_not_offered(tmp_path):
    path = _write(tmp_path, "title: T\ndata: [events.csv]\nsurprise: 1\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    by_key = {p.column: p for p in info.value.problems}
    assert by_key["countries"].expected == "this key, which is required"
    assert by_key["countries"].line is None  # a missing key has no line
    assert "Field required" not in str(info.value)
    offered = by_key["surprise"].expected
    assert "countries" in offered and "path" not in offered.split("(")[1]


def test_focus_and_spillover_targets_must_lie_in_the_studys_countries(tmp_path):
    text = BASE.replace("countries: [Mali, senegal, MRT]", "countries: [Mali]")
    text = text.replace("focus: [Kayes, SN-TC]", "focus: [Kayes, Niamey]")
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text))
    found = {(p.column, p.found) for p in info.value.problems}
    assert found == {("focus", "Niamey (NE-8, NER)"), ("spillover_targets", "MRT")}
    lines = {p.column: p.line for p in info.value.problems}
    assert lines == {"focus": 5, "spillover_targets": 9}


@pytest.mark.parametrize(
    ("pair", "words"),
    [
        ("[2021, 2020]", "the earlier window first: 2020:2021"),
        ("[2020, 2020]", "windows that do not overlap"),
        ("['2020-01..2020-12', '2020-06..2021-06']", "share months"),
    ],
)
def test_a_comparison_reads_from_the_earlier_window_to_a_later_one(tmp_path, pair, words):
    text = BASE.replace('compare: [[2020, 2021], ["2020Q1", "2021Q1"]]', f"compare: [{pair}]")
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text))
    (problem,) = info.value.problems
    assert problem.column == "compare" and words in problem.expected


def test_an_unknown_country_is_one_problem_not_three(tmp_path):
    text = BASE.replace("countries: [Mali, senegal, MRT]", "countries: [Mali, senegal, Mauritanya]")
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text))
    (problem,) = info.value.problems
    assert (problem.column, problem.found) == ("countries", "Mauritanya")


def test_a_key_written_twice_is_an_error_not_the_last_value(tmp_path):
    path = _write(tmp_path, BASE + "horizon: 12\nalerts: {min_events: 3}\nhorizon: 6\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert problem.column == "horizon" and problem.expected == "each key once"
    first = BASE.count("\n") + 1
    assert problem.found == f"on lines {first} and {first + 2}" and problem.line == first + 2


@pytest.mark.parametrize(
    ("entry", "expected"),
    [("'.'", "a data file, not a folder"), ("''", "a data file's path"),
     ("'${CT_UNSET_DATA:-}'", "a data file's path")],
)  # fmt: skip
def test_a_data_entry_that_is_a_folder_or_empty_is_named(tmp_path, monkeypatch, entry, expected):
    monkeypatch.delenv("CT_UNSET_DATA", raising=False)
    path = _write(tmp_path, BASE.replace("data: [events.csv]", f"data: [{entry}]"))
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert problem.column == "data" and problem.expected == expected


def test_a_date_or_a_year_where_a_month_goes_says_what_to_write(tmp_path):
    text = BASE.replace("start: 2020-01", "start: 2020-01-01").replace("end: 2021-12", "end: 2021")
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text))
    found = {p.column: (p.expected, p.found) for p in info.value.problems}
    assert found == {
        "start": ("a month as YYYY-MM, e.g. 2021-01", "2020-01-01"),
        "end": ("a month as YYYY-MM, e.g. 2021-01", "2021"),
    }


def test_a_quarterly_study_compares_years_or_quarters(tmp_path):
    text = BASE.replace(
        'compare: [[2020, 2021], ["2020Q1", "2021Q1"]]', "compare: [[2020-02, 2021-02]]"
    )
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text + "freq: quarter\n"))
    assert {(p.column, p.found) for p in info.value.problems} == {
        ("compare", "2020-02"),
        ("compare", "2021-02"),
    }
    assert load_study(_write(tmp_path, text)).compare == [("2020-02", "2021-02")]  # monthly: fine


def test_a_quarterly_study_starts_and_ends_with_whole_quarters(tmp_path):
    cut = BASE.replace("start: 2020-01", "start: 2020-02").replace("end: 2021-12", "end: 2021-11")
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, cut + "freq: quarter\n"))
    found = {(p.column, p.line, p.found): p.expected for p in info.value.problems}
    assert found == {
        ("start", 6, "2020-02"): "the first month of a quarter (the periods are quarters), "
        "e.g. 2020-01 or 2020-10",
        ("end", 7, "2021-11"): "the last month of a quarter (the periods are quarters), "
        "e.g. 2021-03 or 2021-12",
    }
    assert load_study(_write(tmp_path, cut)).start == "2020-02"  # monthly: any month
    assert load_study(_write(tmp_path, BASE + "freq: quarter\n")).freq == "quarter"


def test_data_through_is_an_optional_month(tmp_path):
    assert load_study(_write(tmp_path, BASE)).data_through is None
    assert load_study(_write(tmp_path, BASE)).data_from is None
    assert load_study(_write(tmp_path, BASE + "data_from: 2019-01\n")).data_from == "2019-01"
    assert load_study(_write(tmp_path, BASE + "data_through: 2022-03\n")).data_through == "2022-03"
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, BASE + "data_through: 2022\n"))
    (problem,) = info.value.problems
    assert (problem.column, problem.line) == ("data_through", 10)
    assert problem.expected.startswith("a month as YYYY-MM")


def test_input_files_are_the_study_its_data_and_its_boundaries(tmp_path):
    """What an --out may not name (analysis.io.require_writable)."""
    path = _write(tmp_path, BASE)
    study = load_study(path)
    assert study.input_files() == [path.resolve(), (tmp_path / "events.csv").resolve()]
    bounded = study.model_copy(update={"boundaries": tmp_path / "units.geojson"})
    assert bounded.input_files()[-1] == tmp_path / "units.geojson"


def test_a_study_file_not_in_utf8_names_the_line_and_column_of_the_first_bad_byte(tmp_path):
    """A title with "Côte d'Ivoire" saved as Latin-1 was reported as "found 'byte 17'": a
    count of bytes no editor shows, with no line and no advice."""
    path = _write(tmp_path, BASE)
    text = BASE.replace("title: Test", "title: JNIM in Côte d'Ivoire")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8") as info:
        load_study(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == (str(path), 2)
    assert "re-save the file as UTF-8" in problem.expected
    assert problem.found == "byte 0xF4 at column 17"
    # a byte-order mark is no character of the line: the column is the one an editor shows
    path.write_bytes(b"\xef\xbb\xbf" + text.lstrip("\n").encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert problem.line == 1 and problem.found == "byte 0xF4 at column 17"
    # columns count characters: the 2-byte "é" before the bad byte is one column
    path.write_bytes("title: Sé".encode() + b"\xf4\n")
    with pytest.raises(InputError) as info:
        load_study(path)
    assert info.value.problems[0].found == "byte 0xF4 at column 10"


@pytest.mark.parametrize(
    ("data", "found"),
    [("data:\n  - ${CT_TEST_UNSET}\n", "${CT_TEST_UNSET}"),
     ("data: ${CT_TEST_UNSET}/events.csv\n", "${CT_TEST_UNSET}/events.csv")],
)  # fmt: skip
def test_an_unset_variable_is_one_problem_that_says_how_to_set_it(
    tmp_path, monkeypatch, data, found
):
    """The unset variable came with a second problem in the validator's words, "expected List
    should have at least 1 item after validation, not 0", and no word of how to set it."""
    monkeypatch.delenv("CT_TEST_UNSET", raising=False)
    path = _write(tmp_path, BASE.replace("data: [events.csv]\n", data))
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert (problem.column, problem.line, problem.found) == ("data", 3, found)
    assert problem.expected == (
        "the environment variable CT_TEST_UNSET, which is not set: set it to the data file's "
        "path before the command (export CT_TEST_UNSET=/path/to/events.csv) or give a "
        "default in the study (${CT_TEST_UNSET:-path/to/events.csv})"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("data: []\n", "at least one data file"),
        ("countries: []\n", "at least one country"),
        ("title: ''\n", "text of at least 1 character"),
        (f"title: {'x' * 201}\n", "text of at most 200 characters"),
    ],
)
def test_a_list_or_text_too_short_or_long_is_said_in_plain_words(tmp_path, change, expected):
    """pydantic's "List should have at least 1 item after validation, not 0" and "String
    should have at least 1 character" had followed "expected" word for word."""
    key = change.split(":")[0]
    lines = [line for line in BASE.splitlines() if not line.startswith(key + ":")]
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, "\n".join(lines) + "\n" + change))
    (problem,) = info.value.problems
    assert (problem.column, problem.expected) == (key, expected)
    assert "should have" not in str(info.value)


@pytest.mark.parametrize(
    ("focus", "found"),
    [
        ("[Kayes, Kayes]", "Kayes twice (ML-1)"),
        ("[Kayes, SN-TC, ML-1]", "Kayes and ML-1, both ML-1"),
    ],
)
def test_a_focus_region_named_twice_is_refused(tmp_path, focus, found):
    """`focus: [Kayes, ML-1]` gave the growth table two rows for Kayes and the report two
    region reports of it."""
    path = _write(tmp_path, BASE.replace("focus: [Kayes, SN-TC]", f"focus: {focus}"))
    with pytest.raises(InputError, match="invalid study") as info:
        load_study(path)
    (problem,) = info.value.problems
    assert (problem.column, problem.line) == ("focus", 5)
    assert problem.expected == "each region once" and problem.found == found


def test_a_country_named_twice_is_one_country(tmp_path):
    """Countries and spillover targets are sets of codes: "Mali, MLI" reads one country (and
    so no duplicate downstream), unlike a focus region, which is refused when named twice."""
    text = BASE.replace("countries: [Mali, senegal, MRT]", "countries: [Mali, MLI, senegal, MRT]")
    text = text.replace("spillover_targets: [Mauritania]", "spillover_targets: [MRT, Mauritania]")
    study = load_study(_write(tmp_path, text))
    assert study.countries == ["MLI", "SEN", "MRT"] and study.spillover_targets == ["MRT"]


def test_boundaries_may_name_an_environment_variable(tmp_path, monkeypatch):
    """As `data` entries do: a shared boundaries file lives where the shared data do. The
    variable had been taken as part of the path."""
    shipped = Path(__file__).parents[1] / "analysis" / "data" / "admin1_west_africa.geojson"
    monkeypatch.setenv("CT_TEST_BOUNDARIES", str(shipped.parent))
    text = BASE + "boundaries: ${CT_TEST_BOUNDARIES}/admin1_west_africa.geojson\n"
    assert load_study(_write(tmp_path, text)).boundaries == shipped.resolve()
    monkeypatch.delenv("CT_TEST_BOUNDARIES")
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text))
    (problem,) = info.value.problems
    assert (problem.column, problem.line) == ("boundaries", 10)
    assert problem.expected.startswith("the environment variable CT_TEST_BOUNDARIES, which is")
    assert "export CT_TEST_BOUNDARIES=/path/to/admin1.geojson" in problem.expected


def test_a_missing_data_file_says_where_it_was_looked_for(tmp_path, monkeypatch):
    """A relative path is read from the study file's folder: an analyst who ran from the
    data's own folder read only "expected an existing data file (found 'data/x.csv')"."""
    (tmp_path / "studies").mkdir()
    path = _write(tmp_path / "studies", BASE.replace("data: [events.csv]", "data: [data/x.csv]"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        load_study(path)
    (problem,) = info.value.problems
    assert problem.expected == "an existing data file"
    assert problem.found == f"data/x.csv, looked for at {tmp_path / 'studies' / 'data' / 'x.csv'}"
