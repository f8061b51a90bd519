"""Benchmark: ingest a 2,000,000-row ACLED-format CSV and build the monthly panel; DuckDB alongside.

Usage::

    .venv/bin/python benchmarks/ingest.py [--rows 2000000] [--repeats 3] [--keep-extra]

Generates the CSV once into ``benchmarks/out/`` (gitignored): 1,000 admin-1 units in 10
countries, 10 years, all 31 ACLED columns, dates mixed across ACLED's three written forms, and
notes of realistic length and wording. Each repeat runs this project and then DuckDB, each in a
fresh child process; the peak resident memory of each child is read from ``os.wait4`` (its own
``ru_maxrss``, not the running maximum over children). The last line printed is JSON with the
medians and the ratio of this project's end-to-end time to DuckDB's, measured in the same run.

What is timed for this project (``end_to_end_s``): reading the file in Arrow record batches,
parsing dates, validating every batch against ``ROW_SCHEMA`` and the ids over the whole file,
the SHA-256 of the input for the manifest (background thread), and ``build_panel`` at monthly
frequency over all 1,000 units x 120 months. Region ids are the admin-1 names as written
(``regions="admin1"``): the synthetic units are not in the shipped boundaries, so name/point
resolution (``analysis.geography.assign_regions``) is timed separately (``assign_regions_s``)
against synthetic boundaries of the same 1,000 names, as is writing the parquet file
(``write_parquet_s``).

What is timed for DuckDB (``duckdb_s``): ``read_csv`` of the same file (types sniffed), the
three date forms parsed with ``try_strptime``, and the group-by to admin-1 x month counts and
fatalities; no validation, no line numbers, no hash.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HERE = Path(__file__).resolve().parent
COUNTRIES = [
    ("Mali", 466),
    ("Burkina Faso", 854),
    ("Niger", 562),
    ("Nigeria", 566),
    ("Mauritania", 478),
    ("Senegal", 686),
    ("Guinea", 324),
    ("Ivory Coast", 384),
    ("Togo", 768),
    ("Benin", 204),
]
EVENT_TYPES = [
    ("Political violence", "Violence against civilians", "Attack"),
    ("Political violence", "Battles", "Armed clash"),
    ("Political violence", "Explosions/Remote violence", "Remote explosive/landmine/IED"),
    ("Demonstrations", "Protests", "Peaceful protest"),
    ("Strategic developments", "Strategic developments", "Looting/property destruction"),
    ("Political violence", "Riots", "Mob violence"),
]
ACTORS = [
    "JNIM: Group for Support of Islam and Muslims",
    "Islamic State (Sahel)",
    "Military Forces of Mali (2021-)",
    "Military Forces of Burkina Faso (2022-)",
    "Wagner Group",
    "Dozo Communal Militia (Mali)",
    "Unidentified Armed Group (Mali)",
    "Civilians (Mali)",
    "Protesters (Burkina Faso)",
    "Fulani Ethnic Militia (Nigeria)",
]
VERBS = ["attacked", "ambushed", "clashed with", "abducted", "looted", "burned", "raided"]
TARGETS = [
    "a military post",
    "a convoy of trucks on the national road",
    "civilians at a weekly market",
    "a gendarmerie checkpoint",
    "villagers returning from the fields",
    "a customs office",
    "a health centre",
]
OUTCOMES = [
    "Fatalities were reported among the defence forces.",
    "Several vehicles were burned and livestock was taken.",
    "The attackers withdrew towards the border area.",
    "No fatalities were reported; several people were injured.",
    "Local sources report that the group imposed a blockade on the road afterwards.",
]
SOURCES = ["Le Monde", "RFI", "Studio Tamani", "Twitter; Undisclosed Source", "AFP", "Reuters"]
HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
    "source_scale,notes,fatalities,tags,timestamp"
).split(",")


def _pick(rng: np.random.Generator, values: list[str], n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, len(values), n).astype(np.int32)), pa.array(values)
    ).cast(pa.string())


def generate(path: Path, rows: int, units: int = 1000, years: int = 10, seed: int = 1) -> None:
    """Write an ACLED-format CSV with ``rows`` events to ``path``."""
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, units, rows)
    country_of_unit = np.arange(units) % len(COUNTRIES)
    country_idx = country_of_unit[unit]
    admin1_names = np.array([f"Province {i:04d}" for i in range(units)], dtype=object)
    days = rng.integers(0, 365 * years, rows)
    dates = np.datetime64("2015-01-01") + days.astype("timedelta64[D]")
    # the three written forms of ACLED exports, each on a third of the rows
    dates_pa = pa.array(dates.astype("datetime64[s]"))
    forms = [
        pc.strftime(dates_pa, "%Y-%m-%d"),
        pc.strftime(dates_pa, "%d %B %Y"),
        pc.strftime(dates_pa, "%d-%b-%y"),
    ]
    which = rng.integers(0, 3, rows)
    event_date = np.where(
        which == 0,
        forms[0].to_numpy(zero_copy_only=False),
        np.where(which == 1, forms[1].to_numpy(zero_copy_only=False), forms[2].to_numpy(False)),
    )
    # strip the leading zero of the day in the short form, as ACLED writes it (8-Feb-24)
    event_date = pc.replace_substring_regex(pa.array(event_date), r"^0(\d-)", r"\1")
    etype = rng.integers(0, len(EVENT_TYPES), rows)
    country_names = np.array([c for c, _ in COUNTRIES], dtype=object)
    location = pc.binary_join_element_wise(
        _pick(rng, ["Village", "Commune", "Town", "Camp"], rows),
        pa.array((rng.integers(0, 5000, rows)).astype(str)),
        " ",
    )
    place = pc.binary_join_element_wise(
        location, pa.array(admin1_names[unit]), pa.array(country_names[country_idx]), ", "
    )
    notes = pc.binary_join_element_wise(
        pc.binary_join_element_wise(
            pa.array(["On"] * rows), pc.strftime(dates_pa, "%d %B %Y,"), " "
        ),
        _pick(rng, ACTORS, rows),
        _pick(rng, VERBS, rows),
        _pick(rng, TARGETS, rows),
        "in",
        pc.binary_join_element_wise(place, _pick(rng, OUTCOMES, rows), ". "),
        " ",
    )
    fatalities = rng.negative_binomial(0.4, 0.3, rows)
    lat = rng.uniform(4.0, 25.0, rows).round(4)
    lon = rng.uniform(-17.0, 15.0, rows).round(4)
    codes = np.array([c for _, c in COUNTRIES])
    columns = {
        "event_id_cnty": pc.binary_join_element_wise(
            pa.array(
                np.array(["MLI", "BFA", "NER", "NGA", "MRT", "SEN", "GIN", "CIV", "TGO", "BEN"])[
                    country_idx
                ]
            ),
            pa.array(np.arange(rows).astype(str)),
            "",
        ),
        "event_date": event_date,
        "year": pa.array(2015 + days // 365),
        "time_precision": pa.array(rng.choice([1, 1, 1, 1, 2, 3], rows)),
        "disorder_type": pa.array(np.array([e[0] for e in EVENT_TYPES], dtype=object)[etype]),
        "event_type": pa.array(np.array([e[1] for e in EVENT_TYPES], dtype=object)[etype]),
        "sub_event_type": pa.array(np.array([e[2] for e in EVENT_TYPES], dtype=object)[etype]),
        "actor1": _pick(rng, ACTORS, rows),
        "assoc_actor_1": _pick(rng, ["", "", "", "Fulani Ethnic Group (Mali)", "Civilians"], rows),
        "inter1": pa.array(rng.integers(1, 9, rows)),
        "actor2": _pick(rng, ACTORS + [""] * 5, rows),
        "assoc_actor_2": _pick(rng, ["", "", "", "", "Farmers (Mali)"], rows),
        "inter2": pa.array(rng.integers(0, 9, rows)),
        "interaction": pa.array(rng.integers(10, 88, rows)),
        "civilian_targeting": _pick(rng, ["", "Civilian targeting"], rows),
        "iso": pa.array(codes[country_idx]),
        "region": pa.array(["Western Africa"] * rows),
        "country": pa.array(country_names[country_idx]),
        "admin1": pa.array(admin1_names[unit]),
        "admin2": _pick(rng, [f"Cercle {i}" for i in range(50)], rows),
        "admin3": _pick(rng, [f"Commune {i}" for i in range(200)], rows),
        "location": location,
        "latitude": pa.array(lat),
        "longitude": pa.array(lon),
        "geo_precision": pa.array(rng.choice([1, 1, 2, 3], rows)),
        "source": _pick(rng, SOURCES, rows),
        "source_scale": _pick(rng, ["National", "Subnational", "International", "Other"], rows),
        "notes": notes,
        "fatalities": pa.array(fatalities),
        "tags": _pick(rng, ["", "", "crowd size=no report", "women targeted: candidates"], rows),
        "timestamp": pa.array(rng.integers(1_600_000_000, 1_700_000_000, rows)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # Quote only where needed (commas, quotes), as exports from ACLED and spreadsheets do.
    fields = [_csv_field(columns[h]) for h in HEADER]
    lines = pc.binary_join_element_wise(*fields, ",")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        step = 200_000
        for start in range(0, rows, step):
            handle.write("\n".join(lines.slice(start, step).to_pylist()) + "\n")
    os.replace(tmp, path)


def _csv_field(values: pa.Array) -> pa.Array:
    text = pc.fill_null(values.cast(pa.string()), "")
    needs = pc.match_substring_regex(text, r'[,"\n\r]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def run_once(path: Path, keep_extra: bool) -> dict[str, float | int | str]:
    """One timed run of this project (call in a fresh process)."""
    import pandas as pd

    from analysis.geography import Boundaries, assign_regions
    from analysis.panel import build_panel
    from analysis.sources.ingest import ingest

    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    result = ingest([path], regions="admin1", keep_extra=keep_extra)
    t1 = time.perf_counter()
    events = result.events
    names = sorted(events["admin1"].dropna().unique())
    country = events[["admin1", "country"]].drop_duplicates("admin1").set_index("admin1")["country"]
    code = {c: f"C{i:02d}" for i, c in enumerate(sorted(country.unique()))}
    regions = pd.DataFrame(
        {
            "region_id": names,
            "region_name": names,
            "country": [code[country[n]] for n in names],
            "country_name": [country[n] for n in names],
            "contained": "",
            "geometry": None,
        }
    )
    boundaries = Boundaries(
        regions=regions,
        edges=pd.DataFrame(columns=["region_a", "region_b", "cross_border"]),
        source="synthetic",
    )
    t2 = time.perf_counter()
    panel = build_panel(events, boundaries, freq="month")
    t3 = time.perf_counter()
    usage3 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage3.ru_utime + usage3.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    out = path.with_name("events.parquet")
    events.to_parquet(out, index=False)
    t4 = time.perf_counter()
    # region resolution by name on the same rows, against boundaries of the synthetic names
    probe = events[["country", "admin1"]].assign(iso3=events["country"].map(code))
    t5 = time.perf_counter()
    assignment = assign_regions(probe, boundaries)
    t6 = time.perf_counter()
    rows = len(events)
    end_to_end = (t1 - t0) + (t3 - t2)
    return {
        "rows": rows,
        "ingest_s": t1 - t0,
        "panel_s": t3 - t2,
        "end_to_end_s": end_to_end,
        "rows_per_second": rows / end_to_end,
        "panel_rows": len(panel),
        "panel_events": int(panel["events"].sum()),
        "write_parquet_s": t4 - t3,
        "assign_regions_s": t6 - t5,
        "assign_regions_resolved": int(assignment.region_id.notna().sum()),
        "cpu_s": cpu,
        "peak_rss_mib_end_to_end": usage3.ru_maxrss / 1024,
    }


DUCKDB_PANEL = """
SELECT admin1, date_trunc('month', d) AS month, count(*) AS events,
       sum(fatalities) AS fatalities, count(*) FILTER (WHERE d IS NULL) AS bad_dates
FROM (
    SELECT admin1, fatalities,
           coalesce(try_strptime(event_date, '%Y-%m-%d'), try_strptime(event_date, '%d %B %Y'),
                    try_strptime(event_date, '%d-%b-%y')) AS d
    FROM read_csv(?, header = true)
)
GROUP BY ALL
"""


def run_duckdb(path: Path) -> dict[str, float | int]:
    """One timed DuckDB run: read, parse the three date forms, group by admin-1 x month."""
    import duckdb

    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    con = duckdb.connect()
    groups = con.execute(DUCKDB_PANEL, [str(path)]).fetchall()
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "duckdb_s": seconds,
        "groups": len(groups),
        "events": int(sum(g[2] for g in groups)),
        "bad_dates": int(sum(g[4] for g in groups)),
        "threads": int(con.execute("SELECT current_setting('threads')").fetchone()[0]),
        "cpu_s": (usage.ru_utime + usage.ru_stime) - (usage0.ru_utime + usage0.ru_stime),
    }


def child(args: list[str]) -> tuple[dict, float]:
    """Run this script with ``args`` in a fresh process: its JSON line and its peak RSS (MiB).

    ``os.wait4`` gives the resource usage of that one child, so every run has its own peak.
    """
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(stderr.decode())
        raise SystemExit(f"benchmark child {args} failed ({proc.returncode})")
    return json.loads(stdout.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--keep-extra", action="store_true", help="also keep the 18 extra columns")
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run-duckdb", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_once(args.run, args.keep_extra)))
        return
    if args.run_duckdb:
        print(json.dumps(run_duckdb(args.run_duckdb)))
        return
    path = args.out / f"acled_{args.rows}.csv"
    t = time.perf_counter()
    if not path.exists():
        # in a child: Linux carries a parent's peak RSS into the children it forks (through
        # exec too), so generating here would inflate every later child's measured peak
        subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); "
             f"from ingest import generate; from pathlib import Path; "
             f"generate(Path({str(path)!r}), {args.rows})"],
            check=True,
        )  # fmt: skip
    generated = time.perf_counter() - t
    load_start = os.getloadavg()[0]
    runs, duck = [], []
    for _ in range(args.repeats):
        ours_args = ["--run", str(path)] + (["--keep-extra"] if args.keep_extra else [])
        result, peak = child(ours_args)
        runs.append(dict(result, peak_rss_mib=peak))
        print(json.dumps(runs[-1]), file=sys.stderr)
        result, peak = child(["--run-duckdb", str(path)])
        duck.append(dict(result, peak_rss_mib=peak))
        print(json.dumps(duck[-1]), file=sys.stderr)

    def median(key: str, of: list[dict] = runs) -> float:
        return statistics.median(r[key] for r in of)

    ours_s = median("end_to_end_s")
    duck_s = median("duckdb_s", duck)
    summary = {
        "benchmark": "ingest ACLED CSV -> validated canonical events -> monthly panel",
        "rows": runs[0]["rows"],
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "generate_s": round(generated, 2),
        "repeats": len(runs),
        "keep_extra_columns": bool(args.keep_extra),
        "median_end_to_end_s": round(ours_s, 3),
        "median_rows_per_second": round(median("rows_per_second")),
        "median_ingest_s": round(median("ingest_s"), 3),
        "median_panel_s": round(median("panel_s"), 3),
        "median_cpu_s (user+sys, all threads)": round(median("cpu_s"), 2),
        "median_peak_rss_mib_end_to_end": round(median("peak_rss_mib_end_to_end"), 1),
        "max_peak_rss_mib_end_to_end": round(max(r["peak_rss_mib_end_to_end"] for r in runs), 1),
        "max_peak_rss_mib_process (with write and assign_regions)": round(
            max(r["peak_rss_mib"] for r in runs), 1
        ),
        "panel_rows": runs[0]["panel_rows"],
        "median_write_parquet_s (not in end_to_end)": round(median("write_parquet_s"), 3),
        "median_assign_regions_s (not in end_to_end)": round(median("assign_regions_s"), 3),
        "duckdb_version": _duckdb_version(),
        "duckdb_threads": duck[0]["threads"],
        "median_duckdb_s": round(duck_s, 3),
        "median_duckdb_cpu_s": round(median("cpu_s", duck), 2),
        "max_duckdb_peak_rss_mib": round(max(r["peak_rss_mib"] for r in duck), 1),
        "duckdb_groups": duck[0]["groups"],
        "duckdb_bad_dates": duck[0]["bad_dates"],
        "ratio_to_duckdb (median end_to_end / median duckdb)": round(ours_s / duck_s, 2),
        # on a loaded machine wall time follows the CPU share a process gets; CPU seconds less so
        "cpu_ratio_to_duckdb (median cpu_s / median duckdb cpu_s)": round(
            median("cpu_s") / median("cpu_s", duck), 2
        ),
        "ratio_to_duckdb_per_run": [
            round(r["end_to_end_s"] / d["duckdb_s"], 2) for r, d in zip(runs, duck, strict=True)
        ],
        "load_average_1min": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "included": (
            "Arrow record batches of "
            + ("all 31 columns" if args.keep_extra else "the 14 needed columns")
            + ", date parsing, per-batch ROW_SCHEMA validation and whole-file id check, SHA-256"
            " of the input (background thread), monthly build_panel over 1,000 units x 120"
            " months; region ids = admin1 names (synthetic units, so assign_regions is timed"
            " separately)"
        ),
        "cores": os.cpu_count(),
    }
    print(json.dumps(summary))


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


if __name__ == "__main__":
    main()
