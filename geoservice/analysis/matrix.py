"""The sector × place matrix: which places host which sectors, in which plans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geoservice.analysis.targets import ZONE_KINDS
from geoservice.catalog import Catalog

ROW_KINDS = ("district", "city", "zone")
AREAL_OR_POINT = ("Point", "MultiPoint", "Polygon", "MultiPolygon")
CELL_COLUMNS = (
    "place",
    "place_zh",
    "place_en",
    "sector",
    "sector_zh",
    "sector_en",
    "plan",
    "count",
    "area_km2",
    "elements",
    "names",
)


class MatrixError(ValueError):
    """A matrix request naming an unknown row kind, plan or sector."""


@dataclass(frozen=True)
class SectorColumn:
    """One column of the matrix: a sector and the codes it covers (its narrower codes)."""

    code: str
    name_zh: str
    name_en: str
    covers: frozenset[str]


@dataclass(frozen=True)
class Matrix:
    """The cells of a sector × place matrix, one per place, sector and plan with elements.

    An element counts in every place it lies in (a zone over two districts counts in both), so
    row sums of planned area may exceed the plans' own totals."""

    rows: str
    places: pd.DataFrame  # place, place_zh, place_en: the rows, in order
    sectors: tuple[SectorColumn, ...]
    cells: pd.DataFrame  # CELL_COLUMNS

    def totals(self) -> pd.DataFrame:
        """Return one row per place and sector: elements of every plan together."""
        cells = self.cells
        if cells.empty:
            return cells.drop(columns=["plan"])
        group = cells.groupby(["place", "sector"], sort=False)
        out = group.agg(
            count=("count", "sum"),
            area_km2=("area_km2", lambda a: a.sum(min_count=1)),
            elements=("elements", "sum"),
            names=("names", "sum"),
            plans=("plan", list),
        )
        return out.reset_index()


def sector_columns(
    catalog: Catalog, labels: Iterable[str] | None, present: set[str]
) -> tuple[SectorColumn, ...]:
    """Return the columns: one per requested label (children merged), else one per code present."""
    vocab = catalog.sectors
    if labels is None:
        codes = [c for c in vocab.terms if c in present]
        return tuple(
            SectorColumn(c, vocab.terms[c].name_zh, vocab.terms[c].name_en, frozenset({c}))
            for c in codes
        )
    columns = []
    for label in labels:
        found = vocab.lookup(label)
        if not found:
            raise MatrixError(
                f"sectors: {label!r} is no sector code, name or synonym; see /sectors"
            )
        term = vocab.terms[found[0]]
        columns.append(SectorColumn(term.code, term.name_zh, term.name_en, vocab.resolve(label)))
    return tuple(columns)


def element_places(catalog: Catalog, rows: str, frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return (element index, place) pairs: the places each element lies in.

    district: the county-level units it lists (functional zones through their host districts);
    city: the cities of those units (or a city it lists itself);
    zone: the zones, belts and poles of any plan whose area holds the element's representative
    point (the zone itself excluded; chains and their links, drawn as lines, lie in no zone)."""
    if rows == "zone":
        zones = _zones(catalog)
        sited = frame[frame.geometry.notna() & frame.geom_type.isin(AREAL_OR_POINT)]
        points = gpd.GeoDataFrame(
            {"element": sited.index, "id": sited["id"]},
            geometry=sited.geometry.representative_point(),
            crs=frame.crs,
        )
        joined = gpd.sjoin(points, zones, predicate="within")
        joined = joined[joined["id"] != joined["place"]]
        return joined[["element", "place"]].reset_index(drop=True)
    bounds = catalog.boundaries.frame
    level, parent = bounds["level"], bounds["parent_adcode"]
    pairs = []
    for element, codes in zip(frame.index, frame["districts"]):
        for code in catalog.boundaries.hosts(tuple(codes))[0]:
            lvl = level.get(code)
            if rows == "district" and lvl == "district":
                pairs.append((element, code))
            elif rows == "city" and lvl in ("district", "city"):
                pairs.append((element, code if lvl == "city" else parent[code]))
    return pd.DataFrame(pairs, columns=["element", "place"]).drop_duplicates()


def _zones(catalog: Catalog) -> gpd.GeoDataFrame:
    """Return every zone, belt and pole of every plan as a place with a polygon."""
    frames = [
        c.frame[c.frame["kind"].isin(ZONE_KINDS) & c.frame.geometry.notna()]
        for c in catalog.plan_collections()
    ]
    zones = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame({"place": zones["id"]}, geometry=zones.geometry.values, crs="EPSG:4326")


def _place_names(catalog: Catalog, rows: str, places: Iterable[str]) -> pd.DataFrame:
    """Return the names of the places, in the order of the rows (by name within each city)."""
    places = list(dict.fromkeys(places))
    if rows == "zone":
        features = pd.concat(
            [c.frame[["id", "name_zh", "name_en", "plan"]] for c in catalog.plan_collections()]
        )
        named = features.set_index("id").loc[places].reset_index()
        named = named.rename(columns={"id": "place", "name_zh": "place_zh", "name_en": "place_en"})
        return named.sort_values(["plan", "place"])[["place", "place_zh", "place_en"]].reset_index(
            drop=True
        )
    bounds = catalog.boundaries.frame.loc[places]
    out = pd.DataFrame(
        {
            "place": bounds["adcode"].values,
            "place_zh": bounds["name_zh"].values,
            "place_en": bounds["name_en"].values,
        }
    )
    return out.sort_values("place").reset_index(drop=True)


def sector_matrix(
    catalog: Catalog,
    rows: str = "district",
    plans: Iterable[str] | None = None,
    sectors: Iterable[str] | None = None,
) -> Matrix:
    """Build the matrix: for each place and sector, the elements of each plan, their count and
    their planned area (sum of the known planned_area_km2)."""
    if rows not in ROW_KINDS:
        raise MatrixError(f"rows: {rows!r} is not one of {', '.join(ROW_KINDS)}")
    collections = catalog.plan_collections()
    if plans is not None:
        plans = list(plans)
        unknown = [p for p in plans if p not in {c.id for c in collections}]
        if unknown:
            raise MatrixError(f"plans: no plan {', '.join(map(repr, unknown))}")
        collections = [c for c in collections if c.id in plans]
    frame = pd.concat([c.frame for c in collections], ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    columns = sector_columns(catalog, sectors, {s for codes in frame["sectors"] for s in codes})
    located = element_places(catalog, rows, frame)
    elements = frame.loc[
        located["element"], ["id", "name_zh", "plan", "sectors", "planned_area_km2"]
    ]
    located = pd.concat([located.reset_index(drop=True), elements.reset_index(drop=True)], axis=1)
    covering = pd.DataFrame(  # which column each sector code counts in (a parent covers children)
        [(code, c.code, c.name_zh, c.name_en) for c in columns for code in c.covers],
        columns=["code", "sector", "sector_zh", "sector_en"],
    )
    by_code = located.explode("sectors").rename(columns={"sectors": "code"})
    hits = by_code.merge(covering, on="code").drop(columns="code")
    # an element with two codes under one column counts once there
    hits = hits.drop_duplicates(["element", "place", "sector"])
    if hits.empty:
        cells = pd.DataFrame(columns=list(CELL_COLUMNS))
        return Matrix(rows, _place_names(catalog, rows, []), columns, cells)
    group = hits.groupby(["place", "sector", "sector_zh", "sector_en", "plan"], sort=False)
    cells = group.agg(
        count=("id", "size"),
        area_km2=("planned_area_km2", lambda a: a.sum(min_count=1)),
        elements=("id", list),
        names=("name_zh", list),
    ).reset_index()
    places = _place_names(catalog, rows, cells["place"])
    cells = places.merge(cells, on="place")
    order = {c.code: i for i, c in enumerate(columns)}
    cells = cells.sort_values(
        ["place", "sector"], key=lambda s: s.map(order) if s.name == "sector" else s
    )
    return Matrix(rows, places, columns, cells[list(CELL_COLUMNS)].reset_index(drop=True))
