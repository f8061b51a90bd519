"""Admin-1 boundaries, name normalisation, point-in-polygon and neighbours.

The region id is the ISO 3166-2 code of the admin-1 unit. A source's admin-1 name is resolved
by normalised name within its country first (cheap and exact when the source uses the same
framework), then by point-in-polygon from its coordinates. Events that neither resolves are
counted, not dropped silently: the caller decides what to do with them.

The shipped boundaries are Natural Earth 1:10m admin-1 units for 11 West African countries
("Made with Natural Earth", public domain). A user-supplied GeoJSON, GeoPackage or shapefile
replaces them for other parts of the world; adjacency is then computed from the polygons.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError, Problem

SHIPPED_ADMIN1 = "admin1_west_africa.geojson"
SHIPPED_ADJACENCY = "admin1_adjacency_west_africa.csv"

UNCONNECTED = 10_000
"""Adjacency order given to pairs of units with no path between them."""

# Words that sources append to admin-1 names and that carry no identity.
_SUFFIX_WORDS = (
    "region",
    "regions",
    "state",
    "wilaya",
    "wilayat",
    "province",
    "prefecture",
    "department",
    "departement",
    "district",
    "governorate",
    "capital territory",
    "autonomous district",
)

# Spelling variants seen in UCDP/ACLED exports -> the name used in the shipped boundaries.
# Keys and values are normalised with `normalise_name`.
_NAME_VARIANTS = {
    "timbuktu": "tombouctou",
    "tombouctou": "tombouctou",
    "taoudenit": "tombouctou",
    "taoudeni": "tombouctou",
    "menaka": "gao",
    "bamako district": "bamako",
    "district de bamako": "bamako",
    "hodh ech chargi": "hodh ech chargui",
    "hodh el chargui": "hodh ech chargui",
    "hodh ech chargui": "hodh ech chargui",
    "hodh el gharbi": "hodh el gharbi",
    "nouakchott nord": "nouakchott",
    "nouakchott ouest": "nouakchott",
    "nouakchott sud": "nouakchott",
    "dakhlet nouadhibou": "dakhlet nouadhibou",
    "tiris zemmour": "tiris zemmour",
    "guidimakha": "guidimaka",
    "kedougou": "kedougou",
    "federal capital": "federal capital territory",
    "fct": "federal capital territory",
    "abuja": "federal capital territory",
}

# Country names seen in sources -> ISO 3166-1 alpha-3.
_COUNTRY_VARIANTS = {
    "ivory coast": "CIV",
    "cote divoire": "CIV",
    "cote d ivoire": "CIV",
    "burkina": "BFA",
    "the gambia": "GMB",
    "gambia": "GMB",
}


def normalise_name(name: str | None) -> str:
    """Normalise an admin-1 or country name for matching.

    Case, accents, apostrophes, hyphens and suffix words such as "region" or "wilaya" are
    removed, so that "Ségou Region", "SEGOU" and "segou" compare equal.

    Parameters
    ----------
    name : str or None
        A name as written in a source.

    Returns
    -------
    str
        The normalised name ("" for a missing name).
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['’`´]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    for word in _SUFFIX_WORDS:
        text = re.sub(rf"(^|\s){word}$", "", text).strip()
        text = re.sub(rf"^{word}(\s(of|de|du|d))?\s", "", text).strip()
    return _NAME_VARIANTS.get(text, text)


@dataclass(frozen=True)
class Boundaries:
    """Admin-1 units, their adjacency, and the lookups built from them.

    Attributes
    ----------
    regions : geopandas.GeoDataFrame
        One row per unit: ``region_id``, ``region_name``, ``country`` (ISO3), ``country_name``,
        ``contained`` (ISO codes of newer units inside this one), ``geometry`` (EPSG:4326).
    edges : pandas.DataFrame
        Adjacency, both directions: ``region_a``, ``region_b``, ``cross_border``.
    source : str
        Where the boundaries came from (file name), for provenance.
    """

    regions: pd.DataFrame
    edges: pd.DataFrame
    source: str
    _orders: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def region_ids(self) -> list[str]:
        """All region ids, sorted."""
        return sorted(self.regions["region_id"])

    def regions_of(self, countries: list[str] | None) -> pd.DataFrame:
        """The units of the given ISO3 countries (all units if ``countries`` is empty).

        Parameters
        ----------
        countries : list of str or None
            ISO3 codes; None or empty for every unit.

        Returns
        -------
        pandas.DataFrame
            The columns of :attr:`regions` but ``geometry``, one row per unit, sorted by
            ``region_id``.
        """
        table = self.regions.drop(columns="geometry")
        if countries:
            table = table[table["country"].isin(countries)]
        return pd.DataFrame(table).sort_values("region_id").reset_index(drop=True)

    def name_of(self, region_id: str) -> str:
        """The display name of a region id.

        Parameters
        ----------
        region_id : str
            An ISO 3166-2 code of the boundaries.

        Returns
        -------
        str

        Raises
        ------
        KeyError
            When the boundaries have no such unit.
        """
        names = self._names()
        if region_id not in names:
            raise KeyError(region_id)
        return names[region_id]

    def _names(self) -> dict[str, str]:
        if "names" not in self._orders:
            self._orders["names"] = dict(
                zip(self.regions["region_id"], self.regions["region_name"], strict=True)
            )
        return self._orders["names"]

    def country_codes(self) -> dict[str, str]:
        """Normalised country names and codes -> ISO3 code."""
        lookup = dict(_COUNTRY_VARIANTS)
        for code, name in zip(self.regions["country"], self.regions["country_name"], strict=True):
            lookup[normalise_name(name)] = code
            lookup[normalise_name(code)] = code
        return lookup

    def graph_orders(self) -> tuple[list[str], np.ndarray]:
        """Shortest-path adjacency order between all units (cached)."""
        if "all" not in self._orders:
            from scipy.sparse import coo_matrix
            from scipy.sparse.csgraph import shortest_path

            ids = self.region_ids
            index = {rid: i for i, rid in enumerate(ids)}
            a = self.edges["region_a"].map(index).to_numpy()
            b = self.edges["region_b"].map(index).to_numpy()
            graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))
            dist = shortest_path(graph.tocsr(), unweighted=True, directed=False)
            dist[~np.isfinite(dist)] = UNCONNECTED
            self._orders["all"] = (ids, dist.astype(int))
        return self._orders["all"]


def _package_file(name: str) -> Path:
    return Path(str(resources.files("analysis") / "data" / name))


def _country_names(frame: pd.DataFrame, country_field: str) -> pd.Series:
    """The country names of a user file's units: its own name field where it has one, else
    the shipped units' names for the codes they share (a file with ISO3 codes alone had
    refused a study's `countries: [Mali]`), else the code itself."""
    codes = frame[country_field].astype(str)
    for name_field in ("admin", "country", "ADM0_EN", "NAME_0", "COUNTRY"):
        if name_field in frame.columns and name_field != country_field:
            names = frame[name_field]
            return names.astype(str).where(names.notna(), codes)
    return codes.map(_shipped_country_names()).fillna(codes)


@functools.lru_cache(maxsize=1)
def _shipped_country_names() -> dict[str, str]:
    import geopandas as gpd

    frame = gpd.read_file(
        _package_file(SHIPPED_ADMIN1), columns=["adm0_a3", "country"], ignore_geometry=True
    )
    return dict(zip(frame["adm0_a3"].astype(str), frame["country"].astype(str), strict=True))


@functools.lru_cache(maxsize=8)
def load_boundaries(
    path: str | Path | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    country_field: str | None = None,
) -> Boundaries:
    """Load admin-1 boundaries: the shipped West African set, or a user file.

    Parameters
    ----------
    path : str or Path, optional
        A GeoJSON, GeoPackage or shapefile. ``None`` loads the shipped Natural Earth units.
    code_field, name_field, country_field : str, optional
        Fields of a user file holding the unit code, its name and its country (ISO3 or name).
        Guessed from common names (``iso_3166_2``, ``shapeISO``, ``ADM1_PCODE``, ...) when
        omitted.

    Returns
    -------
    Boundaries
        Units and adjacency. A user file's adjacency is computed from touching polygons.
    """
    import geopandas as gpd

    if path is None:
        frame = gpd.read_file(_package_file(SHIPPED_ADMIN1))
        regions = gpd.GeoDataFrame(
            {
                "region_id": frame["iso_3166_2"].astype(str),
                "region_name": frame["name"].astype(str),
                "country": frame["adm0_a3"].astype(str),
                "country_name": frame["country"].astype(str),
                "contained": frame["iso_codes_contained"].fillna("").astype(str),
            },
            geometry=frame.geometry,
            crs="EPSG:4326",
        )
        raw = pd.read_csv(_package_file(SHIPPED_ADJACENCY))
        edges = _symmetric_edges(
            raw["iso_3166_2_a"], raw["iso_3166_2_b"], raw["cross_border"].astype(bool)
        )
        return Boundaries(regions=regions, edges=edges, source=SHIPPED_ADMIN1)

    path = Path(path)
    if not path.exists():
        raise InputError(
            "boundary file not found", [Problem(str(path), None, None, "an existing file")]
        )
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(
            "cannot read boundary file",
            [Problem(str(path), None, None, "GeoJSON, GeoPackage or shapefile", str(exc)[:200])],
        ) from None
    code_field = code_field or _guess_field(
        frame, ("iso_3166_2", "shapeISO", "ADM1_PCODE", "adm1_pcode", "code", "id"), path, "code"
    )
    name_field = name_field or _guess_field(
        frame, ("name", "shapeName", "ADM1_EN", "adm1_name", "NAME_1"), path, "name"
    )
    country_field = country_field or _guess_field(
        frame,
        ("adm0_a3", "ISO3", "iso3", "shapeGroup", "ADM0_PCODE", "GID_0", "country"),
        path,
        "country",
    )
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    regions = gpd.GeoDataFrame(
        {
            "region_id": frame[code_field].astype(str),
            "region_name": frame[name_field].astype(str),
            "country": frame[country_field].astype(str),
            "country_name": _country_names(frame, country_field),
            "contained": "",
        },
        geometry=frame.geometry,
        crs="EPSG:4326",
    )
    duplicated = regions["region_id"][regions["region_id"].duplicated()]
    if len(duplicated):
        raise InputError(
            "boundary codes must be unique",
            [
                Problem(str(path), int(i) + 1, code_field, "a unique code", str(v))
                for i, v in duplicated.items()
            ],
        )
    edges = compute_adjacency(regions)
    return Boundaries(regions=regions, edges=edges, source=path.name)


def _guess_field(frame: pd.DataFrame, candidates: tuple[str, ...], path: Path, what: str) -> str:
    for name in candidates:
        if name in frame.columns:
            return name
    raise InputError(
        f"boundary file has no {what} field",
        [Problem(str(path), None, None, f"one of the fields {', '.join(candidates)}")],
    )


def _symmetric_edges(a: pd.Series, b: pd.Series, cross: pd.Series) -> pd.DataFrame:
    forward = pd.DataFrame({"region_a": a, "region_b": b, "cross_border": cross})
    backward = pd.DataFrame({"region_a": b, "region_b": a, "cross_border": cross})
    edges = pd.concat([forward, backward], ignore_index=True).drop_duplicates(
        ["region_a", "region_b"]
    )
    return edges.sort_values(["region_a", "region_b"]).reset_index(drop=True)


def compute_adjacency(regions: pd.DataFrame, tolerance: float = 1e-7) -> pd.DataFrame:
    """Pairs of units whose polygons touch or overlap (within ``tolerance`` degrees).

    Parameters
    ----------
    regions : geopandas.GeoDataFrame
        Units with ``region_id``, ``country`` and ``geometry``.
    tolerance : float
        Buffer in degrees that closes slivers between digitised borders.

    Returns
    -------
    pandas.DataFrame
        ``region_a``, ``region_b``, ``cross_border``, both directions.
    """
    import shapely

    geoms = regions.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, tolerance), predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    ids = regions["region_id"].to_numpy()
    countries = regions["country"].to_numpy()
    return _symmetric_edges(
        pd.Series(ids[left]), pd.Series(ids[right]), pd.Series(countries[left] != countries[right])
    )


def neighbours(
    region: str,
    order: int = 1,
    cross_border_only: bool = False,
    boundaries: Boundaries | None = None,
) -> list[str]:
    """Units within ``order`` adjacency steps of ``region`` (the region itself excluded).

    Parameters
    ----------
    region : str
        ISO 3166-2 code.
    order : int
        1 for units that share a border, 2 adds their neighbours, and so on.
    cross_border_only : bool
        Keep only units in another country.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    list of str
        Region ids sorted by adjacency order, then id.
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    boundaries = boundaries or load_boundaries()
    ids, dist = boundaries.graph_orders()
    if region not in ids:
        raise InputError(
            "unknown region",
            [Problem(None, None, "region", "an ISO 3166-2 code of a known unit", region)],
        )
    row = dist[ids.index(region)]
    country = boundaries.regions.set_index("region_id").loc[region, "country"]
    countries = dict(
        zip(boundaries.regions["region_id"], boundaries.regions["country"], strict=True)
    )
    found = [
        (int(row[i]), rid)
        for i, rid in enumerate(ids)
        if 1 <= row[i] <= order and (not cross_border_only or countries[rid] != country)
    ]
    return [rid for _, rid in sorted(found)]


def adjacency_order_matrix(
    region_ids: list[str], boundaries: Boundaries | None = None
) -> np.ndarray:
    """Shortest-path adjacency order between the given units.

    Parameters
    ----------
    region_ids : list of str
        Units in the order wanted for rows and columns.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    numpy.ndarray
        Integer matrix: 0 on the diagonal, 1 for units that share a border, ...,
        ``UNCONNECTED`` where there is no path (e.g. across the sea).
    """
    boundaries = boundaries or load_boundaries()
    ids, dist = boundaries.graph_orders()
    index = {rid: i for i, rid in enumerate(ids)}
    missing = [rid for rid in region_ids if rid not in index]
    if missing:
        raise InputError(
            "unknown regions",
            [Problem(None, None, "region", "a region of the boundaries", rid) for rid in missing],
        )
    pos = np.array([index[rid] for rid in region_ids], dtype=int)
    return dist[np.ix_(pos, pos)]


def cross_border_matrix(region_ids: list[str], boundaries: Boundaries | None = None) -> np.ndarray:
    """Boolean matrix: True where two units lie in different countries.

    Parameters
    ----------
    region_ids : list of str
        The units, in the order of the matrix's rows and columns.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    numpy.ndarray (region, region) of bool
    """
    boundaries = boundaries or load_boundaries()
    countries = boundaries.regions.set_index("region_id")["country"]
    c = countries.reindex(region_ids).to_numpy()
    return c[:, None] != c[None, :]


@dataclass(frozen=True)
class RegionAssignment:
    """How events were given a region id.

    Attributes
    ----------
    region_id : pandas.Series
        Per event, the ISO 3166-2 code, or <NA> where unresolved.
    counts : dict
        ``resolved_by_code``, ``resolved_by_name``, ``resolved_by_point``, ``unresolved``.
    unresolved : pandas.DataFrame
        The distinct (country, admin1) pairs left unresolved, with how many events each.
    """

    region_id: pd.Series
    counts: dict[str, int]
    unresolved: pd.DataFrame


def country_iso3(names: pd.Series, boundaries: Boundaries | None = None) -> pd.Series:
    """Map country names or codes to ISO3 (<NA> where unknown).

    Parameters
    ----------
    names : pandas.Series
        Country names or codes as written in a source.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    pandas.Series of string
        With the index of ``names``.
    """
    boundaries = boundaries or load_boundaries()
    lookup = boundaries.country_codes()
    uniques = pd.Series(names.dropna().unique())
    mapping = {value: lookup.get(normalise_name(value)) for value in uniques}
    return names.map(mapping).astype("string")


def _name_index(boundaries: Boundaries) -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    regions = boundaries.regions
    for rid, name, country, contained in zip(
        regions["region_id"],
        regions["region_name"],
        regions["country"],
        regions["contained"],
        strict=True,
    ):
        index[(country, normalise_name(name))] = rid
        index[(country, normalise_name(rid))] = rid
        for code in str(contained).split("|"):
            if code:
                index[(country, normalise_name(code))] = rid
    return index


def assign_regions(
    events: pd.DataFrame,
    boundaries: Boundaries | None = None,
    snap_degrees: float = 0.05,
) -> RegionAssignment:
    """Give every event the ISO 3166-2 code of its admin-1 unit.

    Resolution order: a valid code already present (``region_id`` or ``adm1_iso`` column),
    then the normalised admin-1 name within the event's country, then point-in-polygon from
    the coordinates (points within ``snap_degrees`` of a unit of the event's own country, e.g.
    on the coast, snap to it), then, for an event whose country the boundaries do not know
    (a misspelt name) and that has no coordinates, an admin-1 name that only one unit of the
    boundaries has.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (``country``, ``iso3``, ``admin1``, ``latitude``, ``longitude``).
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.
    snap_degrees : float
        Largest distance to a unit for a point outside every polygon to be snapped to it.

    Returns
    -------
    RegionAssignment
    """
    import shapely

    boundaries = boundaries or load_boundaries()
    n = len(events)
    # Work on plain arrays: label-based Series assignment costs seconds on millions of rows.
    result = np.full(n, None, dtype=object)
    counts = {"resolved_by_code": 0, "resolved_by_name": 0, "resolved_by_point": 0}
    known = list(boundaries.regions["region_id"])

    for column in ("region_id", "adm1_iso"):
        if column in events.columns:
            given = events[column]
            ok = np.asarray(given.isin(known), dtype=bool) & _isnone(result)
            result[ok] = np.asarray(given.astype(object))[ok]
            counts["resolved_by_code"] += int(ok.sum())

    iso3: pd.Series | None = None
    todo = _isnone(result)
    if "admin1" in events.columns and todo.any():
        iso3 = _event_iso3(events, boundaries)
        index = _name_index(boundaries)
        # Millions of events carry a few hundred distinct (country, name) pairs: normalise
        # the distinct pairs only, then map back through the factorised codes.
        country_codes, country_uniques = pd.factorize(iso3[todo], use_na_sentinel=True)
        name_codes, name_uniques = pd.factorize(events["admin1"][todo], use_na_sentinel=True)
        pair = (country_codes.astype(np.int64) + 1) * (len(name_uniques) + 1) + name_codes + 1
        pair_of_row, pair_uniques = pd.factorize(pair)
        mapped = []
        for key in pair_uniques:
            c, a = divmod(int(key), len(name_uniques) + 1)
            country = country_uniques[c - 1] if c > 0 else None
            name = name_uniques[a - 1] if a > 0 else None
            mapped.append(index.get((country, normalise_name(name))) if country and name else None)
        found = np.asarray(mapped, dtype=object)[pair_of_row]
        result[np.flatnonzero(todo)] = found
        counts["resolved_by_name"] = int((~_isnone(found)).sum())

    todo = _isnone(result)
    if {"latitude", "longitude"} <= set(events.columns) and todo.any():
        lat = pd.to_numeric(events["latitude"], errors="coerce").to_numpy(float)[todo]
        lon = pd.to_numeric(events["longitude"], errors="coerce").to_numpy(float)[todo]
        valid = np.isfinite(lat) & np.isfinite(lon)
        if valid.any():
            points = shapely.points(lon[valid], lat[valid])
            geoms = boundaries.regions.geometry.to_numpy()
            tree = shapely.STRtree(geoms)
            p_idx, g_idx = tree.query(points, predicate="within")
            hit = np.full(len(points), -1)
            hit[p_idx] = g_idx
            missing = np.flatnonzero(hit < 0)
            if len(missing) and snap_degrees > 0:
                near_p, near_g = tree.query_nearest(
                    points[missing], max_distance=snap_degrees, all_matches=False
                )
                # A point just outside every unit is on a coast, or across a border in a
                # country the boundaries lack (Chad beside Niger's Diffa): only a unit of the
                # event's own country may take it, and an unknown country has none.
                if iso3 is None:
                    iso3 = _event_iso3(events, boundaries)
                near = np.flatnonzero(todo)[valid][missing[near_p]]
                own = iso3.iloc[near].to_numpy(dtype=object, na_value=None)
                unit_country = boundaries.regions["country"].to_numpy(dtype=object)[near_g]
                same = np.asarray(own == unit_country, dtype=bool)
                hit[missing[near_p[same]]] = near_g[same]
            ids = boundaries.regions["region_id"].to_numpy(dtype=object)
            codes = np.where(hit >= 0, ids[np.maximum(hit, 0)], None)
            result[np.flatnonzero(todo)[valid]] = codes
            counts["resolved_by_point"] = int((hit >= 0).sum())

    todo = _isnone(result)
    if "admin1" in events.columns and todo.any():
        counts["resolved_by_name"] += _place_unknown_country_by_name(
            events, result, todo, iso3 if iso3 is not None else _event_iso3(events, boundaries),
            boundaries,
        )  # fmt: skip

    unresolved_mask = _isnone(result)
    counts["unresolved"] = int(unresolved_mask.sum())
    assert sum(counts.values()) == n
    cols = [c for c in ("country", "admin1") if c in events.columns]
    if cols and unresolved_mask.any():
        unresolved = (
            events.loc[unresolved_mask, cols]
            .astype("string")
            .fillna("<missing>")
            .value_counts()
            .rename("events")
            .reset_index()
        )
    else:
        unresolved = pd.DataFrame(columns=[*cols, "events"])
    region_id = pd.Series(result, index=events.index, dtype="string")
    return RegionAssignment(region_id=region_id, counts=counts, unresolved=unresolved)


def _place_unknown_country_by_name(
    events: pd.DataFrame,
    result: np.ndarray,
    todo: np.ndarray,
    iso3: pd.Series,
    boundaries: Boundaries,
) -> int:
    """Give an event without a known country or coordinates the unit its admin-1 name
    names, where only one unit of the boundaries has that name (in ``result``, in place);
    return how many were placed.

    "Maii", "Kayes" and no coordinates is Kayes in Mali; "Nigria", "Plateau" is not placed,
    as Benin and Nigeria both have a Plateau. An event with coordinates outside every unit
    is not placed by name: its coordinates say it is elsewhere (Chad has a Lac, as may a
    user's boundaries).
    """
    rows = todo & np.asarray(iso3.isna(), dtype=bool)
    if {"latitude", "longitude"} <= set(events.columns):
        lat = pd.to_numeric(events["latitude"], errors="coerce").to_numpy(float)
        lon = pd.to_numeric(events["longitude"], errors="coerce").to_numpy(float)
        rows &= ~(np.isfinite(lat) & np.isfinite(lon))
    if not rows.any():
        return 0
    units: dict[str, set[str]] = {}
    for (_, name), rid in _name_index(boundaries).items():
        units.setdefault(name, set()).add(rid)
    unique = {name: next(iter(rids)) for name, rids in units.items() if len(rids) == 1}
    codes, names = pd.factorize(events["admin1"][rows], use_na_sentinel=True)
    mapped = [unique.get(normalise_name(name)) for name in names]
    found = np.append(np.asarray(mapped, dtype=object), None)[codes]
    result[np.flatnonzero(rows)] = found
    return int((~_isnone(found)).sum())


def region_countries(region_id: pd.Series, boundaries: Boundaries | None = None) -> pd.Series:
    """The ISO3 code of the country of each region id (<NA> where none or unknown).

    Parameters
    ----------
    region_id : pandas.Series
        Region ids (ISO 3166-2), possibly missing.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    pandas.Series of string
        With the index of ``region_id``.
    """
    boundaries = boundaries or load_boundaries()
    country = boundaries.regions.set_index("region_id")["country"]
    codes, uniques = pd.factorize(region_id, use_na_sentinel=True)
    lookup = np.append(country.reindex(pd.Index(uniques, dtype=object)).to_numpy(object), None)
    return pd.Series(lookup[codes], index=region_id.index, dtype="string")


def _isnone(values: np.ndarray) -> np.ndarray:
    return np.equal(values, None)


def _event_iso3(events: pd.DataFrame, boundaries: Boundaries) -> pd.Series:
    if "iso3" in events.columns and events["iso3"].notna().any():
        iso3 = events["iso3"].astype("string")
    else:
        iso3 = pd.Series(pd.NA, index=events.index, dtype="string")
    if "country" in events.columns and iso3.isna().any():
        iso3 = iso3.fillna(country_iso3(events["country"].astype("string"), boundaries))
    return iso3


def resolve_region(
    name_or_code: str, boundaries: Boundaries | None = None, option: str = "region"
) -> str:
    """Resolve a user's region reference (ISO 3166-2 code or name) to a region id.

    Names must be unique across the boundaries, or qualified with a country
    ("Kayes, Mali" or "Mali/Kayes"). ``option`` names where the reference came from in the
    error: a command's option (``--region``) or this function's argument (the default).

    Parameters
    ----------
    name_or_code : str
        An ISO 3166-2 code (any case, or the code of a newer unit inside one), or a name,
        optionally qualified with its country.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.
    option : str, optional
        The option or argument named in the error; ``"region"`` by default.

    Returns
    -------
    str
        The region id.

    Raises
    ------
    InputError
        When no unit, or more than one, matches.
    """
    boundaries = boundaries or load_boundaries()
    known = set(boundaries.regions["region_id"])
    text = str(name_or_code).strip()
    if text in known:
        return text
    if text.upper() in known:
        return text.upper()
    for rid, contained in zip(
        boundaries.regions["region_id"], boundaries.regions["contained"], strict=True
    ):
        if text.upper() in str(contained).split("|"):
            return rid
    country = None
    parts = re.split(r"\s*[,/]\s*", text)
    if len(parts) == 2:
        first, second = parts
        lookup = boundaries.country_codes()
        if normalise_name(second) in lookup:
            text, country = first, lookup[normalise_name(second)]
        elif normalise_name(first) in lookup:
            text, country = second, lookup[normalise_name(first)]
    wanted = normalise_name(text)
    matches = [
        rid
        for (c, name), rid in _name_index(boundaries).items()
        if name == wanted and (country is None or c == country)
    ]
    matches = sorted(set(matches))
    if len(matches) == 1:
        return matches[0]
    expected = (
        "a unique region name or an ISO 3166-2 code"
        if matches
        else "an ISO 3166-2 code or admin-1 name of the boundaries"
    )
    found = f"{name_or_code} (matches {', '.join(matches)})" if matches else name_or_code
    kind = None if option.startswith("-") else "argument"
    raise InputError(
        "unknown or ambiguous region", [Problem(None, None, option, expected, found, kind=kind)]
    )
