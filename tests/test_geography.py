from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import geography
from analysis.errors import InputError


def test_shipped_boundaries_have_every_unit(boundaries):
    regions = boundaries.regions
    assert len(regions) == 181
    assert regions["region_id"].is_unique
    counts = regions.groupby("country").size().to_dict()
    assert counts["MLI"] == 9 and counts["BFA"] == 13 and counts["SEN"] == 14
    assert (boundaries.edges["cross_border"].sum() // 2) == 91
    assert len(boundaries.edges) == 2 * 452


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Kayes region", "kayes"),
        ("SÉGOU", "segou"),
        ("Région de Ségou", "segou"),
        ("Timbuktu", "tombouctou"),
        ("Borno State", "borno"),
        ("Wilaya de Tamanrasset", "tamanrasset"),
        ("Centre-Nord", "centre nord"),
        (None, ""),
    ],
)
def test_normalise_name(raw, expected):
    assert geography.normalise_name(raw) == expected


def test_kayes_neighbours_match_the_documented_list():
    assert geography.neighbours("ML-1") == [
        "GN-F", "GN-K", "GN-L", "ML-2", "MR-02", "MR-03", "MR-10", "SN-KE", "SN-TC",
    ]  # fmt: skip
    cross = geography.neighbours("ML-1", cross_border_only=True)
    assert "ML-2" not in cross and "MR-10" in cross
    second = geography.neighbours("ML-1", order=2)
    assert set(geography.neighbours("ML-1")) < set(second)
    assert "ML-1" not in second


def test_neighbours_rejects_unknown_region():
    with pytest.raises(InputError, match="unknown region"):
        geography.neighbours("XX-99")


def test_adjacency_order_matrix_is_symmetric_with_zero_diagonal():
    ids = ["ML-1", "ML-2", "MR-10", "SN-TC", "NG-BO"]
    orders = geography.adjacency_order_matrix(ids)
    assert (orders == orders.T).all()
    assert (np.diag(orders) == 0).all()
    assert orders[0, 1] == 1 and orders[0, 2] == 1
    assert orders[0, 4] > 3


def test_assign_regions_by_name_then_point(boundaries):
    events = pd.DataFrame(
        {
            "country": ["Mali", "Mali", "Ivory Coast", "Mali", "Atlantis"],
            "admin1": ["Kayes Region", "Nowhere", "Lagunes", None, "Nowhere"],
            # Bamako's coordinates, so the second event resolves by point
            "latitude": [np.nan, 12.65, np.nan, 14.45, np.nan],
            "longitude": [np.nan, -8.0, np.nan, -11.44, np.nan],
        }
    )
    result = geography.assign_regions(events, boundaries)
    assert list(result.region_id.iloc[:4]) == ["ML-1", "ML-BKO", "CI-LG", "ML-1"]
    assert pd.isna(result.region_id.iloc[4])
    assert result.counts == {
        "resolved_by_code": 0, "resolved_by_name": 2, "resolved_by_point": 2, "unresolved": 1,
    }  # fmt: skip
    assert result.unresolved["events"].sum() == 1


def test_assign_regions_on_real_ucdp_names_and_points(real_data_path, boundaries):
    ged = pd.read_csv(real_data_path)
    events = pd.DataFrame(
        {
            "country": ged["country"],
            "admin1": ged["adm_1"],
            "latitude": ged["latitude"],
            "longitude": ged["longitude"],
        }
    )
    by_name = geography.assign_regions(events, boundaries)
    assert by_name.counts["unresolved"] == 0
    assert (by_name.region_id == ged["adm1_iso"]).all()
    # Without names, point-in-polygon alone agrees with the documented codes almost always
    # (points on a border can fall either side at 1:10m).
    by_point = geography.assign_regions(events.drop(columns="admin1"), boundaries)
    assert (by_point.region_id == ged["adm1_iso"]).mean() > 0.99


def test_resolve_region_accepts_names_codes_and_contained_codes():
    assert geography.resolve_region("Kayes") == "ML-1"
    assert geography.resolve_region("ml-1") == "ML-1"
    assert geography.resolve_region("ML-10") == "ML-6"  # Taoudenit lies inside Tombouctou
    assert geography.resolve_region("Nord, Burkina Faso") == "BF-10"
    with pytest.raises(InputError, match="unknown or ambiguous"):
        geography.resolve_region("Nowhere at all")


def test_user_boundary_file_computes_adjacency(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"shapeISO": ["AA-1", "AA-2", "BB-1"], "shapeName": ["West", "East", "Far"],
         "shapeGroup": ["AAA", "AAA", "BBB"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs="EPSG:4326",
    )  # fmt: skip
    path = tmp_path / "units.geojson"
    frame.to_file(path, driver="GeoJSON")
    custom = geography.load_boundaries(path)
    assert custom.region_ids == ["AA-1", "AA-2", "BB-1"]
    assert geography.neighbours("AA-1", boundaries=custom) == ["AA-2"]
    assert geography.neighbours("AA-2", cross_border_only=True, boundaries=custom) == ["BB-1"]
    events = pd.DataFrame({"latitude": [0.5], "longitude": [2.5]})
    assert geography.assign_regions(events, custom).region_id.iloc[0] == "BB-1"


def test_bad_boundary_file_is_an_input_error(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{not json")
    with pytest.raises(InputError, match="cannot read boundary file"):
        geography.load_boundaries(path)


def test_a_user_file_with_country_codes_alone_knows_the_country_names(tmp_path):
    """A study's `countries: [Mali]` over a user file whose units carry ISO3 codes and no
    country name had been refused: the codes were the only names."""
    import geopandas as gpd

    shipped = gpd.read_file(Path(__file__).parents[1] / "analysis/data/admin1_west_africa.geojson")
    codes_only = shipped[["iso_3166_2", "name", "adm0_a3", "geometry"]]
    path = tmp_path / "units.geojson"
    codes_only.to_file(path, driver="GeoJSON")
    lookup = geography.load_boundaries(path).country_codes()
    assert lookup["mali"] == "MLI" and lookup["senegal"] == "SEN" and lookup["mli"] == "MLI"
