"""Isotope reach over the plans: from a production site, which area and which hospitals a
shipment reaches in time; at a site, which production sites reach it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geoservice.analysis.isotopes import GEOD, Isotope, ReachBudget, geodesic_circle, reach_budget
from geoservice.analysis.sites import SiteIndex

DEFAULT_MIN_FRACTION = 0.5
DEFAULT_MODE = "road"


class UnknownSite(LookupError):
    """A production site id that names no sited feature."""


@dataclass(frozen=True)
class Reach:
    """The reach of one isotope from one production site."""

    isotope: Isotope
    site: dict               # the production feature's summary record, with its role
    origin: tuple[float, float]
    budget: ReachBudget
    area: Polygon | None
    hospitals: list[dict]    # hospitals inside, nearest first, with distance_m


def production_sites(index: SiteIndex, iso: Isotope) -> list[dict]:
    """Return the isotope's production sites: each feature's record, role, and point when sited."""
    out = []
    for site in iso.sites:
        found = index.points_by_id.get(site.feature)
        record = dict(found[2] if found else index.summary_by_id.get(site.feature, {"id": site.feature}))
        record.update(role=site.role, sited=found is not None,
                      point=[float(found[0]), float(found[1])] if found else None)
        out.append(record)
    return out


def isotope_reach(index: SiteIndex, iso: Isotope, from_id: str | None = None,
                  min_fraction: float = DEFAULT_MIN_FRACTION, mode: str = DEFAULT_MODE) -> list[Reach]:
    """Return the reach from each sited production site of an isotope (or only from `from_id`,
    which may be any sited feature of the plans)."""
    budget = reach_budget(iso, index.isotopes.transport, min_fraction, mode)
    if from_id is not None:
        if from_id not in index.points_by_id:
            raise UnknownSite(f"from: {from_id!r} is no sited feature of the plans")
        roles = {s.feature: s.role for s in iso.sites}
        lon, lat, record = index.points_by_id[from_id]
        sites = [{**record, "role": roles.get(from_id, "chosen origin (not a production site of the plans)"),
                  "sited": True, "point": [float(lon), float(lat)]}]
    else:
        sites = [s for s in production_sites(index, iso) if s["sited"]]
    out = []
    for site in sites:
        lon, lat = site["point"]
        distances = index.distances_from_xy(lon, lat)
        rows = np.flatnonzero((index.sited_kind == "hospital") & (distances <= budget.radius_m))
        rows = rows[np.argsort(distances[rows], kind="stable")]
        hospitals = [{**index.sited_records[i], "distance_m": round(float(distances[i]), 1)} for i in rows]
        out.append(Reach(iso, site, (lon, lat), budget, geodesic_circle(lon, lat, budget.radius_m), hospitals))
    return out


def reaching_sites(index: SiteIndex, site: BaseGeometry, isotopes: list[Isotope],
                   min_fraction: float = DEFAULT_MIN_FRACTION, mode: str = DEFAULT_MODE) -> list[dict]:
    """Return, per isotope, the sited production sites whose reach contains the site (each with its
    distance and reach radius), and the production sites the plans do not place."""
    point = site if site.geom_type == "Point" else site.representative_point()
    out = []
    for iso in isotopes:
        budget = reach_budget(iso, index.isotopes.transport, min_fraction, mode)
        reaching, unsited = [], []
        for record in production_sites(index, iso):
            if not record["sited"]:
                unsited.append({k: record.get(k) for k in ("id", "name_zh", "name_en", "role")})
                continue
            distance = float(GEOD.inv(point.x, point.y, *record["point"])[2])
            if distance <= budget.radius_m:
                reaching.append({**record, "distance_m": round(distance, 1),
                                 "reach_m": round(budget.radius_m, 1)})
        out.append({"nuclide": iso.nuclide, "code": iso.code,
                    "half_life": {"value": iso.half_life.value, "unit": iso.half_life.unit},
                    "reach_m": round(budget.radius_m, 1), "reaching_sites": reaching,
                    "unsited_production": unsited})
    return out
