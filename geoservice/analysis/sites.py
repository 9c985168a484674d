"""What the plans hold at a site: per-catalog arrays built once, queried in microseconds.

`SiteIndex` prepares, once per catalog, what every site question needs: the administrative
polygons and the plan elements' areas (prepared, in an STRtree), every sited element as lon/lat
arrays, and each element's summary record. A site query is then a tree probe, a prepared
point-in-polygon test and one vectorised geodesic (no GeoDataFrame is copied per request).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geoservice.analysis.incentives import applicable_incentives
from geoservice.analysis.isotopes import IsotopeTable, load_isotopes
from geoservice.catalog import BOUNDARIES_ID, Catalog
from geoservice.geojson import plain

GEOD = Geod(ellps="WGS84")
LEVELS = ("province", "city", "district")
# Kinds that are places one can go to (sited as points), the nearest of which a lookup lists.
SITED_KINDS = ("park", "base", "carrier", "project", "facility", "platform", "hospital",
               "institute", "university", "enterprise")
AREA_TYPES = ("Polygon", "MultiPolygon")
SUMMARY = ("id", "plan", "kind", "name_zh", "name_en", "sectors", "location_precision")
AREA_SUMMARY = (*SUMMARY, "districts", "planned_area_km2", "targets", "geometry_basis")


@dataclass(frozen=True)
class Sector:
    """A sector asked for: the label, the codes it names, and those above and below them."""

    label: str
    codes: frozenset[str]      # what the label names (a GB/T class: the plan codes it maps to)
    narrower: frozenset[str]   # children of those codes
    broader: frozenset[str]    # parents of those codes
    nuclear: bool              # in the nuclear-medicine chain (isotopes matter)

    @property
    def matching(self) -> frozenset[str]:
        """Return the codes an element may carry to be of this sector (the codes and their children)."""
        return self.codes | self.narrower

    def fit(self, element_sectors) -> str:
        """Return how an element's sectors fit: exact, narrower, broader or none."""
        own = set(element_sectors)
        if own & self.codes:
            return "exact"
        if own & self.narrower:
            return "narrower"
        if own & self.broader:
            return "broader"
        return "none"


NUCLEAR_SCHEMES = ("nuc", "iso")


def resolve_sector(catalog: Catalog, label: str | None) -> Sector | None:
    """Resolve a label (code, name, synonym, GB/T 4754 code or class); UnknownTerm if unknown."""
    if label is None:
        return None
    terms = catalog.sectors.terms
    resolved = catalog.sectors.require(label)
    codes = frozenset(catalog.sectors.lookup(label))
    nuclear = any(terms[c].scheme in NUCLEAR_SCHEMES for c in resolved if c in terms)
    return Sector(label, codes, resolved - codes, catalog.sectors.with_ancestors(codes) - codes, nuclear)


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict]:
    """Return the rows as JSON-ready dicts (computed once per catalog)."""
    cols = [c for c in columns if c in frame.columns]
    return [{k: plain(v) for k, v in r.items()} for r in frame[cols].to_dict(orient="records")]


class SiteIndex:
    """Everything a site question needs, built once per catalog (see site_index)."""

    def __init__(self, catalog: Catalog, isotopes: IsotopeTable) -> None:
        self.catalog = catalog
        self.isotopes = isotopes
        units = catalog[BOUNDARIES_ID].frame
        self.unit_geoms = np.asarray(units.geometry.array, dtype=object)
        shapely.prepare(self.unit_geoms)  # in place, on the catalog's own (immutable) geometries
        self.unit_tree = shapely.STRtree(self.unit_geoms)
        self.unit_level = units["level"].to_numpy()
        self.unit_records = _records(units, ("adcode", "name_zh", "name_en"))
        self.parent = dict(zip(units["adcode"], units["parent_adcode"]))
        frames = [c.frame for c in catalog.plan_collections()]
        every = pd.concat(frames, ignore_index=True) if frames else units.iloc[0:0]
        self.status = {pid: p.plan.status for pid, p in catalog.plans.items()}
        types = every.geometry.geom_type
        areas = every[types.isin(AREA_TYPES).to_numpy()]
        self.area_geoms = np.asarray(areas.geometry.array, dtype=object)
        shapely.prepare(self.area_geoms)
        self.area_tree = shapely.STRtree(self.area_geoms)
        self.area_records = _records(areas, AREA_SUMMARY)
        sited = every[(types == "Point").to_numpy()]  # every point; queries pick the kinds they list
        self.sited_lon = shapely.get_x(sited.geometry.array).astype(float)
        self.sited_lat = shapely.get_y(sited.geometry.array).astype(float)
        self.sited_kind = sited["kind"].to_numpy()
        self.sited_sectors = [frozenset(s) for s in sited["sectors"]]
        self.sited_records = [{**r, "point": [round(float(x), 6), round(float(y), 6)]} for r, x, y in
                              zip(_records(sited, SUMMARY), self.sited_lon, self.sited_lat)]
        self.points_by_id = {r["id"]: (lon, lat, r) for r, lon, lat in
                             zip(self.sited_records, self.sited_lon, self.sited_lat)}
        self.summary_by_id = {r["id"]: r for r in _records(every, SUMMARY)}
        self._incentives: dict[tuple, list[dict]] = {}

    # --- where ---------------------------------------------------------------------------
    def units_at(self, site: BaseGeometry) -> dict[str, dict | None]:
        """Return the province, city and district containing the site (a polygon: its
        representative point), each {adcode, name_zh, name_en} or None."""
        point = site if site.geom_type == "Point" else site.representative_point()
        hits = self.unit_tree.query(point)
        hits = hits[shapely.intersects(self.unit_geoms[hits], point)]
        found = {self.unit_level[i]: self.unit_records[i] for i in hits}
        return {level: found.get(level) for level in LEVELS}

    def outline(self, adcode: str, tolerance_deg: float = 0.001) -> BaseGeometry | None:
        """Return a unit's polygon simplified for display (None for an unknown adcode)."""
        rows = [i for i, r in enumerate(self.unit_records) if r["adcode"] == adcode]
        return shapely.simplify(self.unit_geoms[rows[0]], tolerance_deg) if rows else None

    def areas_at(self, site: BaseGeometry) -> np.ndarray:
        """Return the positions of the plan areas that contain (a point) or overlap (a polygon) the site."""
        hits = self.area_tree.query(site)
        return np.sort(hits[shapely.intersects(self.area_geoms[hits], site)])

    def distances_from(self, site: BaseGeometry) -> np.ndarray:
        """Return the geodesic distance in metres from the site (a polygon: 0 inside, else from its
        representative point) to every sited element."""
        point = site if site.geom_type == "Point" else site.representative_point()
        distances = self.distances_from_xy(point.x, point.y)
        if site.geom_type != "Point":
            inside = shapely.contains_xy(site, self.sited_lon, self.sited_lat)
            distances = np.where(inside, 0.0, distances)
        return distances

    def distances_from_xy(self, lon: float, lat: float) -> np.ndarray:
        """Return the geodesic distance in metres from (lon, lat) to every sited element."""
        n = len(self.sited_lon)
        return GEOD.inv(np.full(n, lon), np.full(n, lat), self.sited_lon, self.sited_lat)[2]

    def nearest(self, distances: np.ndarray, kinds: tuple[str, ...], k: int,
                sectors: frozenset[str] | None = None) -> list[dict]:
        """Return the k nearest sited elements of the given kinds (and sectors), with distance_m."""
        mask = np.isin(self.sited_kind, kinds)
        if sectors is not None:
            mask &= np.fromiter((not s.isdisjoint(sectors) for s in self.sited_sectors), bool, len(mask))
        rows = np.flatnonzero(mask)
        rows = rows[np.argsort(distances[rows], kind="stable")[:k]]
        return [{**self.sited_records[i], "distance_m": round(float(distances[i]), 1)} for i in rows]

    # --- what applies ----------------------------------------------------------------------
    def adcodes_at(self, units: dict[str, dict | None]) -> tuple[str, ...]:
        """Return the adcodes of the province, city and district containing a site (the units a
        clause's jurisdiction can name)."""
        return tuple(u["adcode"] for u in units.values() if u is not None)

    def incentives(self, adcodes: tuple[str, ...], sector: Sector | None) -> list[dict]:
        """Return the clauses that apply in these units for this sector (memoised per combination:
        there are few jurisdictions and few sectors)."""
        matching = sector.matching if sector else None  # a clause for a narrower sector is listed too
        key = (adcodes, matching)
        if key not in self._incentives:
            frame = applicable_incentives(self.catalog, adcodes, matching)
            names = {u["adcode"]: u for u in self.unit_records}
            out = []
            for r in _records(frame, ("id", "plan", "title_zh", "title_en", "amount", "cap", "stages",
                                      "conditions_zh", "conditions_en", "source", "sector_match",
                                      "jurisdiction")):
                r["jurisdiction"] = names.get(r["jurisdiction"], {"adcode": r["jurisdiction"]})
                r["plan_status"] = self.status.get(r["plan"])
                out.append(r)
            self._incentives[key] = out
        return self._incentives[key]


_INDEXES: dict[int, SiteIndex] = {}


def site_index(catalog: Catalog, data_dir: Path) -> SiteIndex:
    """Return the SiteIndex of a catalog, built on first use and kept as long as the catalog."""
    index = _INDEXES.get(id(catalog))
    if index is None or index.catalog is not catalog:
        index = SiteIndex(catalog, load_isotopes(data_dir / "vocab" / "isotopes.yaml"))
        _INDEXES[id(catalog)] = index
        weakref.finalize(catalog, _INDEXES.pop, id(catalog), None)
    return index

