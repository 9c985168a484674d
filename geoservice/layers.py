"""Turn parsed plan files into GeoDataFrames: geometry from the location rules, citations completed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geoservice.boundaries import Boundaries
from geoservice.chinese_datums import TO_WGS84, in_china
from geoservice.own_geometry import FILE_PRECISIONS
from geoservice.plans import PlanFile, clean_text
from geoservice.problems import Problem
from geoservice.sources import source_href
from geoservice.vocab import Vocabulary

# Property names and order of every plan feature (the collection's schema).
FEATURE_COLUMNS = (
    "id", "name_zh", "name_en", "plan", "kind", "role_zh", "sectors", "districts",
    "planned_area_km2", "planned_area_zh", "sector_basis", "targets", "enterprises", "institutions",
    "related", "description_en",
    "location_precision", "location_source", "geometry_basis", "link_from", "link_to", "source",
)
INCENTIVE_COLUMNS = (
    "id", "plan", "title_zh", "title_en", "sectors", "stages", "amount", "cap", "award",
    "conditions_zh", "conditions_en", "jurisdiction", "location_precision",
    "location_source", "source",
)


@dataclass(frozen=True)
class PlanDocument:
    """A plan file with the name of the file it came from."""

    file: str
    content: PlanFile


def citation(plan: PlanFile, source, record_id: str) -> dict:
    """Complete a clause reference with the plan's document number, title and a link to the
    passage in the plan's text (service-relative: /plans/{plan}/source#cite-{record id})."""
    return {
        "doc": plan.plan.doc_number,
        "title": plan.plan.title_zh,
        "section": clean_text(source.section),
        "quote": clean_text(source.quote),
        "href": source_href(plan.plan.id, record_id),
    }


def check_references(docs: list[PlanDocument], boundaries: Boundaries,
                     sectors: Vocabulary, kinds: Vocabulary,
                     shapes: Mapping[str, BaseGeometry] = MappingProxyType({})) -> list[Problem]:
    """Check ids, codes and cross references across all plans (shapes: the features that have
    a geometry file)."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for doc in docs:
        for item in [*doc.content.features, *doc.content.incentives]:
            if item.id in seen:
                problems.append(Problem(doc.file, f"duplicate id (also in {seen[item.id]})", item.id, "id"))
            seen[item.id] = doc.file
            if not item.id.startswith(doc.content.plan.id + "."):
                problems.append(Problem(doc.file, f"id must start with '{doc.content.plan.id}.'", item.id, "id"))
            for i, code in enumerate(item.sectors):
                if code not in sectors:
                    problems.append(Problem(doc.file, f"unknown sector code {code!r}", item.id, f"sectors[{i}]"))
        if not boundaries.knows(doc.content.plan.region):
            problems.append(Problem(doc.file, f"unknown region adcode {doc.content.plan.region!r}", "", "plan.region"))
        for f in doc.content.features:
            if f.kind not in kinds:
                problems.append(Problem(doc.file, f"unknown kind {f.kind!r}", f.id, "kind"))
            for i, code in enumerate(f.districts):
                if not boundaries.knows(code):
                    problems.append(Problem(doc.file, f"unknown district code {code!r}", f.id, f"districts[{i}]"))
            problems += _location_problems(doc.file, f, f.id in shapes)
    for doc in docs:
        for f in doc.content.features:
            refs = [(f"related[{i}]", r) for i, r in enumerate(f.related)]
            refs += [("link.from", f.link.from_), ("link.to", f.link.to)] if f.link else []
            problems += [
                Problem(doc.file, f"refers to unknown feature id {ref!r}", f.id, field)
                for field, ref in refs if ref not in seen
            ]
    return problems


def _location_problems(file: str, f, has_shape: bool = False) -> list[Problem]:
    """Check that a feature's location has what its precision needs."""
    loc, need = f.location, []
    if loc.precision == "official" or (loc.precision == "surveyed" and has_shape):
        if not has_shape:
            need.append(f"a geometry file data/geometry/{f.id.split('.')[0]}/{f.id}.geojson")
        if loc.point is not None:
            need.append("no point (the geometry file gives the shape)")
    elif loc.precision in ("surveyed", "approximate"):
        if loc.point is None:
            need.append("a point")
        elif not bool(in_china(*loc.point)):
            return [Problem(file, f"point {list(loc.point)} is outside China (lon, lat swapped?)",
                            f.id, "location.point")]
    elif loc.point is not None:
        need.append(f"no point (precision {loc.precision} derives its geometry)")
    if loc.precision in ("admin_boundary", "district_centroid") and not f.districts:
        need.append("districts")
    if loc.precision == "schematic" and f.kind == "chain_link" and f.link is None:
        need.append("a link")
    if loc.precision != "unsited" and not loc.source:
        need.append("a location source")
    return [Problem(file, f"precision {loc.precision} needs {n}", f.id, "location") for n in need]


def _anchor(geom: BaseGeometry) -> Point:
    """Return a point standing for a geometry: itself, or its centroid when inside, else a point inside."""
    if geom.geom_type == "Point":
        return geom
    centroid = geom.centroid
    return centroid if geom.contains(centroid) else geom.representative_point()


def build_plan_frames(docs: list[PlanDocument], boundaries: Boundaries,
                      same_entity: list[tuple[str, str]] = (),
                      shapes: Mapping[str, BaseGeometry] = MappingProxyType({}),
                      ) -> dict[str, gpd.GeoDataFrame]:
    """Build one GeoDataFrame per plan (call only once check_references found nothing);
    shapes: geometry files (data/geometry/) that replace the derived geometry of their features."""
    geometry: dict[str, BaseGeometry | None] = {}
    basis: dict[str, str] = {}
    features = [(doc, f) for doc in docs for f in doc.content.features]
    for _, f in features:
        if f.id in shapes and f.location.precision in FILE_PRECISIONS:
            geometry[f.id], basis[f.id] = shapes[f.id], "geometry_file"
        else:
            geometry[f.id], basis[f.id] = _own_geometry(f, boundaries)
    for _, f in features:  # links need both ends placed first
        if f.link is not None:
            a, b = geometry[f.link.from_], geometry[f.link.to]
            geometry[f.id] = LineString([_anchor(a), _anchor(b)]) if a and b else None
            basis[f.id] = "link"
    members = defaultdict(list)
    for _, f in features:
        for r in f.related:
            if f.link is not None and geometry[f.id] is not None:
                members[r].append(geometry[f.id])
    for _, f in features:  # a schematic whole (the chain) is the union of its links
        if f.location.precision == "schematic" and f.link is None:
            geometry[f.id] = shapely.union_all(members[f.id]) if members[f.id] else None
            basis[f.id] = "links" if members[f.id] else "none"
    related = _related(features, same_entity)
    names = {f.id: (f.name_zh, f.name_en) for _, f in features}
    frames = {}
    for doc in docs:
        rows = [_row(doc.content, f, basis[f.id], related[f.id], names)
                for f in doc.content.features]
        geoms = [geometry[f.id] for f in doc.content.features]
        frame = gpd.GeoDataFrame(rows, columns=list(FEATURE_COLUMNS), geometry=geoms, crs="EPSG:4326")
        frames[doc.content.plan.id] = frame
    return frames


def _own_geometry(f, boundaries: Boundaries) -> tuple[BaseGeometry | None, str]:
    """Return a feature's geometry from its own location, and how it was derived."""
    loc = f.location
    if loc.precision in ("surveyed", "approximate"):
        lon, lat = loc.point
        convert = TO_WGS84[loc.crs]
        if convert is not None:
            lon, lat = (float(v[0]) for v in convert(np.array([lon]), np.array([lat])))
        return Point(lon, lat), "point" if loc.crs == "WGS84" else f"point converted from {loc.crs}"
    if loc.precision in ("admin_boundary", "district_centroid"):
        adcodes, via_zone = boundaries.hosts(tuple(f.districts))
        area = boundaries.union(adcodes)
        if loc.precision == "district_centroid":
            return _anchor(area), "district_centroid"
        return area, "host_districts" if via_zone else "districts"
    return None, "none"


def entity_groups(names: dict[str, str], same_entity) -> list[list[str]]:
    """Group feature ids that are one real entity: same Chinese name, or paired in links.yaml.

    Pairs chain (a = b and b = c make a = c), so an entity named in three plans is one group.
    """
    parent = {fid: fid for fid in names}

    def root(fid: str) -> str:
        while parent[fid] != fid:
            parent[fid] = parent[parent[fid]]
            fid = parent[fid]
        return fid

    by_name = defaultdict(list)
    for fid, name in names.items():
        by_name[name].append(fid)
    pairs = [(ids[0], other) for ids in by_name.values() for other in ids[1:]] + list(same_entity)
    for a, b in pairs:
        parent[root(a)] = root(b)
    groups = defaultdict(list)
    for fid in names:
        groups[root(fid)].append(fid)
    return [g for g in groups.values() if len(g) > 1]


def _related(features, same_entity) -> dict[str, list[str]]:
    """Link features both ways: declared links, and every record of one entity to all the others."""
    related: dict[str, list[str]] = {f.id: list(f.related) for _, f in features}
    for group in entity_groups({f.id: f.name_zh for _, f in features}, same_entity):
        for fid in group:
            related[fid] += [other for other in group if other != fid]
    for fid, others in list(related.items()):
        for other in list(others):
            related[other].append(fid)
    return {fid: [r for r in dict.fromkeys(others) if r != fid] for fid, others in related.items()}


def sector_basis(f, names: dict[str, tuple[str, str]]) -> dict | None:
    """Which sectors the feature inherits, and from which zone (None: all named in its quote)."""
    if f.sector_basis is None:
        return None
    parent = f.sector_basis.inherited_from
    name_zh, name_en = names.get(parent, (parent, parent))
    return {"inherited_from": parent, "inherited_from_zh": name_zh, "inherited_from_en": name_en,
            "sectors": list(f.sector_basis.sectors)}


def _row(plan: PlanFile, f, geometry_basis: str, related: list[str],
         names: dict[str, tuple[str, str]]) -> dict:
    """Flatten one feature into the collection's properties."""
    return {
        "id": f.id, "name_zh": f.name_zh, "name_en": f.name_en, "plan": plan.plan.id,
        "kind": f.kind, "role_zh": f.role_zh, "sectors": list(f.sectors),
        "districts": list(f.districts), "planned_area_km2": f.planned_area_km2,
        "planned_area_zh": f.planned_area_zh, "sector_basis": sector_basis(f, names),
        "targets": [t.model_dump(exclude_none=True) for t in f.targets],
        "enterprises": list(f.enterprises), "institutions": list(f.institutions),
        "related": related, "description_en": f.description_en,
        "location_precision": f.location.precision, "location_source": f.location.source,
        "geometry_basis": geometry_basis,
        "link_from": f.link.from_ if f.link else None, "link_to": f.link.to if f.link else None,
        "source": citation(plan, f.source, f.id),
    }


def build_incentive_frame(docs: list[PlanDocument], boundaries: Boundaries) -> gpd.GeoDataFrame:
    """Build the incentives collection: unsited records that apply across a jurisdiction."""
    rows = []
    for doc in docs:
        plan = doc.content
        region = plan.plan.region
        for inc in plan.incentives:
            rows.append({
                "id": inc.id, "plan": plan.plan.id, "title_zh": inc.title_zh,
                "title_en": inc.title_en, "sectors": list(inc.sectors), "stages": list(inc.stages),
                "amount": inc.amount.model_dump(exclude_none=True) if inc.amount else None,
                "cap": inc.cap.model_dump(exclude_none=True) if inc.cap else None,
                "award": inc.award,
                "conditions_zh": inc.conditions_zh, "conditions_en": inc.conditions_en,
                "jurisdiction": region, "location_precision": "unsited",
                "location_source": f"a policy measure: applies across {boundaries.name_zh(region)} ({region}), no site",
                "source": citation(plan, inc.source, inc.id),
            })
    return gpd.GeoDataFrame(rows, columns=list(INCENTIVE_COLUMNS),
                            geometry=[None] * len(rows), crs="EPSG:4326")
