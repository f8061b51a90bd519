"""Quoted newlines in notes: read correctly whichever way Arrow chunks the file."""

from __future__ import annotations

import pandas as pd

from analysis.sources import read_events


def test_multiline_notes_across_many_blocks(tmp_path):
    header = "event_id_cnty,event_date,event_type,actor1,country,admin1,fatalities,notes"
    rows = [header]
    for i in range(30_000):
        note = '"first line\nsecond line, with a comma"' if i % 3 == 0 else "plain note"
        rows.append(f"MLI{i:06d},2024-02-08,Battles,JNIM,Mali,Kayes,{i % 5},{note}")
    path = tmp_path / "multiline.csv"
    path.write_text("\n".join(rows) + "\n")
    result = read_events(path)
    events = result.events
    assert len(events) == 30_000
    assert events["event_id"].iloc[-1] == "MLI029999"
    assert events["notes"].iloc[0] == "first line\nsecond line, with a comma"
    assert (events["fatalities"].to_numpy() == pd.Series(range(30_000)) % 5).all()
    # line numbers count the quoted newlines
    assert int(result.lines()[3]) == 2 + 3 + 1
