"""Medical isotopes: half-lives, production sites, and how far a shipment gets before it decays.

Remaining activity after t hours is 2^(-t / T½). A shipment must arrive with at least
`min_fraction` of its activity, so the time budget is T½ · log2(1 / min_fraction); handling takes
a stated part of it, and the rest is travel: road at a stated speed along the geodesic times a
detour factor (no road network offline), or air at a block speed plus ground time. The reach is a
geodesic circle around the production site. All assumptions live in data/vocab/isotopes.yaml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import Geod
from shapely.geometry import Polygon

from geoservice.yamlfile import read_yaml

GEOD = Geod(ellps="WGS84")
HOURS_PER_UNIT = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "y": 365.2422 * 24}
MODES = ("road", "air")
CIRCLE_VERTICES = 72


@dataclass(frozen=True)
class HalfLife:
    """A half-life as the cited table gives it."""

    value: float
    unit: str
    source: str

    @property
    def hours(self) -> float:
        return self.value * HOURS_PER_UNIT[self.unit]


@dataclass(frozen=True)
class ProductionSite:
    """Where a plan produces an isotope: a feature id, its role, whether the plan sites it."""

    feature: str
    role: str
    sited: bool = True


@dataclass(frozen=True)
class Isotope:
    """One isotope of isotopes.yaml."""

    nuclide: str
    code: str
    half_life: HalfLife
    use_en: str
    use_zh: str
    production: str
    plans: tuple[str, ...]
    sites: tuple[ProductionSite, ...]


@dataclass(frozen=True)
class Transport:
    """The stated assumptions of a reach computation."""

    handling_hours: float
    road_speed_kmh: float
    detour_factor: float
    air_speed_kmh: float
    air_ground_hours: float
    max_transport_hours: float
    notes: dict

    def radius_km(self, hours: float, mode: str) -> float:
        """Return the geodesic radius covered in `hours` of transport (none when not positive)."""
        if mode == "air":
            hours -= self.air_ground_hours
            return max(hours, 0.0) * self.air_speed_kmh
        return max(hours, 0.0) * self.road_speed_kmh / self.detour_factor


@dataclass(frozen=True)
class IsotopeTable:
    """Every isotope, by nuclide, and the transport assumptions."""

    isotopes: dict[str, Isotope]
    transport: Transport

    def find(self, label: str) -> Isotope | None:
        """Return the isotope a nuclide ("Lu-177", "lu177", "177Lu") or sector code names."""
        key = _fold(label)
        for iso in self.isotopes.values():
            if key in (_fold(iso.nuclide), _fold(iso.code), _fold(_mass_first(iso.nuclide))):
                return iso
        return None

    def for_sectors(self, codes: frozenset[str]) -> list[Isotope]:
        """Return the isotopes a set of sector codes asks about: named ones, else all of the chain."""
        named = [i for i in self.isotopes.values() if i.code in codes]
        return named or list(self.isotopes.values())


def _fold(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _mass_first(nuclide: str) -> str:
    """Return "177Lu" for "Lu-177" (and "99mTc" for "Tc-99m")."""
    element, mass = nuclide.split("-")
    return mass + element


def load_isotopes(path: Path) -> IsotopeTable:
    """Read data/vocab/isotopes.yaml."""
    doc = read_yaml(path)
    t = doc["transport"]
    transport = Transport(
        t["handling_hours"], t["road"]["speed_kmh"], t["road"]["detour_factor"],
        t["air"]["speed_kmh"], t["air"]["ground_hours"], t["max_transport_hours"],
        {"handling": t["handling_note"].strip(), "road": t["road"]["note"].strip(),
         "air": t["air"]["note"].strip(), "cap": t["max_note"].strip()},
    )
    isotopes = {}
    for e in doc["isotopes"]:
        sites = tuple(ProductionSite(s["feature"], s["role"], s.get("sited", True)) for s in e["sites"])
        isotopes[e["nuclide"]] = Isotope(
            e["nuclide"], e["code"], HalfLife(**e["half_life"]), e["use_en"], e["use_zh"],
            e["production"], tuple(e["plans"]), sites)
    return IsotopeTable(isotopes, transport)


@dataclass(frozen=True)
class ReachBudget:
    """How far a shipment of an isotope gets: the time budget and the radius it allows."""

    nuclide: str
    mode: str
    min_fraction: float
    decay_hours: float       # time until min_fraction remains
    transport_hours: float   # decay_hours minus handling, capped
    capped: bool             # the transport cap, not decay, set the reach
    radius_m: float

    def assumptions(self, transport: Transport) -> dict:
        """Return the stated assumptions behind the figure, for the answer."""
        common = {"handling_hours": transport.handling_hours, "max_transport_hours": transport.max_transport_hours,
                  "handling": transport.notes["handling"]}
        if self.mode == "air":
            return {**common, "air_speed_kmh": transport.air_speed_kmh,
                    "air_ground_hours": transport.air_ground_hours, "method": transport.notes["air"]}
        return {**common, "road_speed_kmh": transport.road_speed_kmh, "detour_factor": transport.detour_factor,
                "method": transport.notes["road"]}


def reach_budget(iso: Isotope, transport: Transport, min_fraction: float, mode: str) -> ReachBudget:
    """Return the reach of a shipment that must keep at least min_fraction (0 < f < 1) of its activity."""
    if not 0 < min_fraction < 1:
        raise ValueError(f"min_fraction: {min_fraction} is not between 0 and 1 (exclusive)")
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {list(MODES)}")
    decay_hours = iso.half_life.hours * math.log2(1 / min_fraction)
    travel = decay_hours - transport.handling_hours
    capped = travel > transport.max_transport_hours
    travel = min(travel, transport.max_transport_hours)
    radius = transport.radius_km(travel, mode) * 1000.0
    return ReachBudget(iso.nuclide, mode, min_fraction, decay_hours, max(travel, 0.0), capped, radius)


def remaining_fraction(iso: Isotope, hours: float) -> float:
    """Return the fraction of activity left after `hours`."""
    return 2.0 ** (-hours / iso.half_life.hours)


def geodesic_circle(lon: float, lat: float, radius_m: float) -> Polygon | None:
    """Return the polygon of points within radius_m of (lon, lat) on the ellipsoid (None for 0)."""
    if radius_m <= 0:
        return None
    azimuths = np.linspace(0.0, 360.0, CIRCLE_VERTICES, endpoint=False)
    lons, lats, _ = GEOD.fwd(np.full(CIRCLE_VERTICES, lon), np.full(CIRCLE_VERTICES, lat),
                             azimuths, np.full(CIRCLE_VERTICES, radius_m))
    return Polygon(zip(lons, lats))
