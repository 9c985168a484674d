"""The site report: for a site and a sector, what the plans lay out there, what is near, which
support clauses apply, whether isotopes reach it, and what the answer rests on."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geoservice.analysis.reach import reaching_sites
from geoservice.analysis.sites import SITED_KINDS, SUMMARY, Sector, SiteIndex, resolve_sector

# Nearby elements, per group: the kinds each group lists (enterprises: of the asked sector).
NEARBY_GROUPS = {
    "parks": ("park", "base", "carrier"),
    "hospitals": ("hospital",),
    "research": ("university", "institute"),
    "platforms": ("platform", "facility"),
    "enterprises": ("enterprise",),
}
NEARBY_K = 3
ZONE_KINDS = ("zone", "belt", "carrier", "park", "base")
OUTSIDE = {
    "en": "The site lies outside the regions the plans cover (Shandong and Sichuan): no plan "
          "element covers it, none is near it and no clause applies.",
    "zh": "该地点不在规划覆盖范围（山东省、四川省）内：没有覆盖或邻近该地点的规划要素，也没有适用的政策条款。",
}
CAVEATS = {
    "district_centroid": ("placed at the centre of its district by the plan data: distances to it are rough",
                          "按所在区县中心定位，距离仅为粗略值"),
    "approximate": ("located from public knowledge of its address, not surveyed",
                    "按公开地址信息近似定位，非实测"),
    "over_cover": ("drawn as its whole host district(s): the zone itself is smaller, so the site may lie outside it",
                   "以所在区县整体范围表示，实际范围更小，该地点可能不在其内"),
    "draft": ("from a plan that is a draft for comment, not issued", "出自征求意见稿，尚未正式印发"),
    "unsited_production": ("planned production with no site in its plan: no reach can be drawn from it",
                           "规划未给出位置的生产设施，无法计算其覆盖范围"),
    "split_site": (("the drawn site spans several districts; units and clauses are those of its "
                    "representative point"), "所绘地块跨越多个区县；行政区与条款按其代表点确定"),
}


@dataclass(frozen=True)
class SiteReport:
    """The answer for one site and sector (plain values: serialisable as it is)."""

    site: dict
    sector: dict | None
    covered: bool
    province: dict | None
    city: dict | None
    district: dict | None
    covering: list[dict]
    nearby: dict[str, list[dict]]
    incentives: list[dict]
    isotopes: list[dict] | None
    caveats: list[dict]
    message: dict | None


def site_report(index: SiteIndex, site: BaseGeometry, sector_label: str | None = None,
                k: int = NEARBY_K) -> SiteReport:
    """Report on a site (a CRS84 point or polygon) for a sector label (code, name, synonym, GB/T 4754
    code or class; None: every sector). Raises UnknownTerm for an unknown label."""
    sector = resolve_sector(index.catalog, sector_label)
    units = index.units_at(site)
    covered = any(u is not None for u in units.values())
    covering = []
    for i in index.areas_at(site):
        record = dict(index.area_records[i])
        if sector is not None:
            record["sector_fit"] = sector.fit(record["sectors"])
        covering.append(record)
    if sector is not None:  # the asked sector's own zones first, then the broader ones
        covering.sort(key=lambda r: ("exact", "narrower", "broader", "none").index(r["sector_fit"]))
    distances = index.distances_from(site)
    nearby = {  # outside the plans' regions nothing is near: empty lists and the message
        group: index.nearest(distances, kinds, k if covered else 0,
                             sector.matching if (group == "enterprises" and sector) else None)
        for group, kinds in NEARBY_GROUPS.items()
    }
    incentives = index.incentives(index.adcodes_at(units), sector)
    isotopes = None
    if sector is not None and sector.nuclear:
        isotopes = reaching_sites(index, site, index.isotopes.for_sectors(sector.matching)) if covered else []
    return SiteReport(
        site=_site_record(site), sector=_sector_record(index, sector), covered=covered,
        province=units["province"], city=units["city"], district=units["district"],
        covering=covering, nearby=nearby, incentives=incentives, isotopes=isotopes,
        caveats=_caveats(index, site, covering, nearby, incentives, isotopes),
        message=None if covered else OUTSIDE,
    )


def place_lookup(index: SiteIndex, point: BaseGeometry, k: int = 5) -> dict:
    """Answer what is at a point for every sector: the units, each plan's areas containing it, the k
    nearest sited elements, and the ids of the clauses that apply there."""
    units = index.units_at(point)
    covered = any(u is not None for u in units.values())
    plans: dict[str, list[dict]] = {c.id: [] for c in index.catalog.plan_collections()}
    for i in index.areas_at(point):
        record = index.area_records[i]
        plans[record["plan"]].append({key: record[key] for key in SUMMARY})
    nearest = index.nearest(index.distances_from(point), SITED_KINDS, k)
    applying = index.incentives(index.adcodes_at(units), None)
    by_plan: dict[str, int] = {}
    for clause in applying:
        by_plan[clause["plan"]] = by_plan.get(clause["plan"], 0) + 1
    body = {"point": [point.x, point.y], "covered": covered, **{lvl: units[lvl] for lvl in
            ("province", "city", "district")}, "plans": plans, "nearest": nearest,
            "incentives": {"count": len(applying), "by_plan": by_plan, "ids": [c["id"] for c in applying]}}
    if not covered:
        body["message"] = ("The point lies outside the regions the plans cover (Shandong and Sichuan); "
                           "the nearest plan elements are still listed.")
    return body


def _site_record(site: BaseGeometry) -> dict:
    point = site if site.geom_type == "Point" else site.representative_point()
    record = {"type": site.geom_type, "point": [round(point.x, 7), round(point.y, 7)]}
    if site.geom_type != "Point":
        record["geometry"] = mapping(site)
    return record


def _sector_record(index: SiteIndex, sector: Sector | None) -> dict | None:
    if sector is None:
        return None
    terms = index.catalog.sectors.terms
    return {"label": sector.label,
            "codes": [{"code": c, "name_zh": terms[c].name_zh, "name_en": terms[c].name_en}
                      for c in sorted(sector.codes)],
            "matching": sorted(sector.matching)}


def _caveat(topic: str, records: list[dict]) -> dict | None:
    """Return one caveat naming the elements it concerns (None when there are none)."""
    if not records:
        return None
    names = list(dict.fromkeys(r.get("name_zh") or r["id"] for r in records))
    en, zh = CAVEATS[topic]
    return {"topic": topic, "en": en, "zh": zh, "ids": list(dict.fromkeys(r["id"] for r in records)),
            "names": names}


def _caveats(index: SiteIndex, site, covering, nearby, incentives, isotopes) -> list[dict]:
    """Collect what the answer rests on that is uncertain."""
    listed = covering + [r for group in nearby.values() for r in group]
    found = [
        _caveat("over_cover", [r for r in covering if r["kind"] in ZONE_KINDS
                               and r.get("geometry_basis") in ("districts", "host_districts")]),
        _caveat("district_centroid", [r for r in listed if r["location_precision"] == "district_centroid"]),
        _caveat("approximate", [r for r in listed if r["location_precision"] == "approximate"]),
        _caveat("draft", [r for r in covering + incentives if index.status.get(r["plan"]) != "issued"]),
        _caveat("unsited_production", [u for i in isotopes or () for u in i["unsited_production"]]),
    ]
    if site.geom_type != "Point":
        districts = index.unit_tree.query(site, predicate="intersects")
        split = [index.unit_records[i] | {"id": index.unit_records[i]["adcode"]}
                 for i in districts if index.unit_level[i] == "district"]
        found.append(_caveat("split_site", split if len(split) > 1 else []))
    return [c for c in found if c]
