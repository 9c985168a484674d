"""Rank candidate zones and parks for a sector, and compare regions side by side.

The score is transparent: every component (0–1), its weight and its points are returned; the
weights and the component definitions live in data/vocab/ranking.yaml (docs/investors.md).
What does not depend on the sector (each candidate's units, its distances to every sited element,
which isotopes reach it) is computed once per catalog; a ranking is then array arithmetic.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import shapely

from geoservice.analysis.isotopes import reach_budget
from geoservice.analysis.reach import production_sites
from geoservice.analysis.sites import GEOD, SiteIndex, resolve_sector
from geoservice.store.memory import geodesic_distances
from geoservice.yamlfile import read_yaml

CLINICAL_KINDS = ("hospital", "university", "institute")
COMPONENTS = ("sector_fit", "incentives", "clinical", "cluster", "isotopes", "plan_status")
MAX_REGIONS = 10
TO_WAN_YUAN = {"万元": 1.0, "亿元": 10_000.0, "元": 1e-4}


class BadWeights(ValueError):
    """A weights override that cannot be used."""


@dataclass(frozen=True)
class RankingRules:
    """data/vocab/ranking.yaml."""

    radius_km: float
    weights: dict[str, float]
    fit_scores: dict[str, float]
    status_scores: dict[str, float]
    candidate_kinds: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> RankingRules:
        doc = read_yaml(path)
        return cls(float(doc["radius_km"]), {k: float(v) for k, v in doc["weights"].items()},
                   doc["fit_scores"], doc["status_scores"], tuple(doc["candidate_kinds"]))

    def with_weights(self, text: str | None) -> dict[str, float]:
        """Return the weights with an override "name:value,…" applied."""
        weights = dict(self.weights)
        for part in (text or "").split(","):
            if not part.strip():
                continue
            name, _, value = part.partition(":")
            name = name.strip()
            if name not in weights:
                raise BadWeights(f"weights: unknown component {name!r}; components: {', '.join(weights)}")
            try:
                number = float(value)
            except ValueError:
                raise BadWeights(f"weights: {part!r} is not name:number") from None
            if not (0 <= number <= 100):
                raise BadWeights(f"weights: {name} must be between 0 and 100")
            weights[name] = number
        if not any(weights.values()):
            raise BadWeights("weights: at least one weight must be above 0")
        return weights


@dataclass
class Candidates:
    """The zones and parks a sector may be ranked over, with what does not depend on the sector."""

    index: SiteIndex
    rules: RankingRules
    rows: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        ix = self.index
        kinds = set(self.rules.candidate_kinds)
        areas = [("area", i, r) for i, r in enumerate(ix.area_records) if r["kind"] in kinds]
        points = [("point", i, r) for i, r in enumerate(ix.sited_records) if r["kind"] in kinds]
        self.records = [r for _, _, r in areas + points]
        geoms = [ix.area_geoms[i] for _, i, _ in areas]
        geoms += [shapely.points(ix.sited_lon[i], ix.sited_lat[i]) for _, i, _ in points]
        self.geoms = np.asarray(geoms, dtype=object)
        self.anchors = [g if g.geom_type == "Point" else g.representative_point() for g in self.geoms]
        self.units = [ix.units_at(a) for a in self.anchors]
        self.adcodes = [ix.adcodes_at(u) for u in self.units]
        self.sector_sets = [frozenset(r["sectors"]) for r in self.records]
        # distances (m) from each candidate (0 inside an area) to each sited element
        simple = shapely.simplify(self.geoms, 0.002)  # ~200 m: ample for a 30 km count
        self.distance = np.column_stack([
            geodesic_distances(shapely.points(lon, lat), simple)
            for lon, lat in zip(ix.sited_lon, ix.sited_lat)
        ]) if len(ix.sited_lon) else np.zeros((len(self.records), 0))
        near = self.distance <= self.rules.radius_km * 1000
        self.near = near
        self.clinical = (near & np.isin(ix.sited_kind, CLINICAL_KINDS)).sum(axis=1)
        self.enterprise = np.isin(ix.sited_kind, ("enterprise",))

    @cached_property
    def isotope_reach(self) -> dict[str, np.ndarray]:
        """Per isotope: which candidates a sited production site reaches (default min_fraction, road)."""
        ix = self.index
        out = {}
        for iso in ix.isotopes.isotopes.values():
            budget = reach_budget(iso, ix.isotopes.transport, 0.5, "road")
            reached = np.zeros(len(self.records), dtype=bool)
            for site in production_sites(ix, iso):
                if site["sited"]:
                    lon, lat = site["point"]
                    xs = np.array([a.x for a in self.anchors])
                    ys = np.array([a.y for a in self.anchors])
                    d = GEOD.inv(np.full(len(xs), lon), np.full(len(xs), lat), xs, ys)[2]
                    reached |= d <= budget.radius_m
            out[iso.nuclide] = reached
        return out

    def in_region(self, adcode: str) -> np.ndarray:
        """Return which candidates lie in a unit (their anchor's units, or their listed districts)."""
        return np.array([adcode in codes or adcode in (r.get("districts") or ())
                         for codes, r in zip(self.adcodes, self.records)], dtype=bool)


_CANDIDATES: dict[int, Candidates] = {}


def candidates(index: SiteIndex, data_dir: Path) -> Candidates:
    """Return the candidates of a site index, built once."""
    found = _CANDIDATES.get(id(index))
    if found is None or found.index is not index:
        found = Candidates(index, RankingRules.load(data_dir / "vocab" / "ranking.yaml"))
        _CANDIDATES[id(index)] = found
        weakref.finalize(index, _CANDIDATES.pop, id(index), None)
    return found


def _component(value, score: float | None, weight: float) -> dict:
    applies = score is not None
    return {"value": value, "score": round(score, 4) if applies else None, "weight": weight,
            "points": round(score * weight, 4) if applies else None}


def rank(cands: Candidates, sector_label: str, region: str | None = None,
         weights: str | None = None, limit: int = 50) -> dict:
    """Rank the candidates of a sector (UnknownTerm for an unknown label, BadWeights for a bad
    override); each result lists its components. Region: an adcode the candidates must lie in."""
    ix, rules = cands.index, cands.rules
    sector = resolve_sector(ix.catalog, sector_label)
    w = rules.with_weights(weights)
    fits = np.array([sector.fit(s) for s in cands.sector_sets])
    keep = fits != "none"
    if region is not None:
        keep &= cands.in_region(region)
    rows = np.flatnonzero(keep)
    same = cands.enterprise & np.fromiter((not s.isdisjoint(sector.matching) for s in ix.sited_sectors),
                                          bool, len(ix.sited_sectors))
    cluster = (cands.near[:, same]).sum(axis=1)
    incentives = np.array([len(ix.incentives(cands.adcodes[i], sector)) if keep[i] else 0
                           for i in range(len(cands.records))])
    nuclear = sector.nuclear
    isotopes = ix.isotopes.for_sectors(sector.matching) if nuclear else []
    reached = (np.column_stack([cands.isotope_reach[i.nuclide] for i in isotopes]).sum(axis=1)
               if isotopes else None)

    def relative(values: np.ndarray) -> np.ndarray:
        top = values[rows].max() if len(rows) else 0
        return values / top if top else np.zeros(len(values))

    rel_inc, rel_clin, rel_cluster = relative(incentives), relative(cands.clinical), relative(cluster)
    results = []
    for i in rows:
        record = cands.records[i]
        status = ix.status.get(record["plan"], "issued")
        parts = {
            "sector_fit": _component(str(fits[i]), rules.fit_scores[fits[i]], w["sector_fit"]),
            "incentives": _component(int(incentives[i]), float(rel_inc[i]), w["incentives"]),
            "clinical": _component(int(cands.clinical[i]), float(rel_clin[i]), w["clinical"]),
            "cluster": _component(int(cluster[i]), float(rel_cluster[i]), w["cluster"]),
            "isotopes": _component(int(reached[i]) if nuclear else None,
                                   float(reached[i]) / len(isotopes) if nuclear else None, w["isotopes"]),
            "plan_status": _component(status, rules.status_scores.get(status, 0.5), w["plan_status"]),
        }
        used = [p for p in parts.values() if p["score"] is not None]
        total_weight = sum(p["weight"] for p in used)
        score = 100 * sum(p["points"] for p in used) / total_weight if total_weight else 0.0
        results.append({**record, "score": round(score, 2), "components": parts,
                        "anchor": [round(cands.anchors[i].x, 6), round(cands.anchors[i].y, 6)],
                        "units": cands.units[i]})
    results.sort(key=lambda r: (-r["score"], r["id"]))
    for n, r in enumerate(results, 1):
        r["rank"] = n
    return {
        "sector": {"label": sector.label, "codes": sorted(sector.codes)},
        "region": region, "weights": w, "radius_km": rules.radius_km,
        "isotopes_considered": [i.nuclide for i in isotopes],
        "numberMatched": len(results), "candidates": results[:limit],
    }


def compare(cands: Candidates, adcodes: list[str], sector_label: str | None = None) -> list[dict]:
    """Return, per region (adcode), the plans that apply, the zones for the sector, plan targets,
    and the clauses that apply there with their headline amounts. Unknown adcodes raise KeyError."""
    ix = cands.index
    sector = resolve_sector(ix.catalog, sector_label)
    names = {u["adcode"]: u for u in ix.unit_records}
    out = []
    for code in adcodes:
        if code not in names:
            raise KeyError(code)
        chain = _ancestors(ix, code)
        plans = [p for pid, p in ix.catalog.plans.items()
                 if p.plan.region in chain or code in _ancestors(ix, p.plan.region)]
        inside = cands.in_region(code)
        zones = [{**cands.records[i], "sector_fit": sector.fit(cands.sector_sets[i]) if sector else None}
                 for i in np.flatnonzero(inside)
                 if sector is None or sector.fit(cands.sector_sets[i]) != "none"]
        clauses = ix.incentives(tuple(chain), sector)
        out.append({
            "region": names[code],
            "plans": [{"id": p.plan.id, "title_zh": p.plan.title_zh, "title_en": p.plan.title_en,
                       "status": p.plan.status, "region": names.get(p.plan.region)} for p in plans],
            "zones": zones,
            "targets": [{"plan": p.plan.id, **t.model_dump(exclude_none=True, exclude={"source"})}
                        for p in plans for t in p.targets],
            "incentives": {"count": len(clauses), "headline": _headline(clauses),
                           "by_plan": {pid: sum(1 for c in clauses if c["plan"] == pid)
                                       for pid in dict.fromkeys(c["plan"] for c in clauses)}},
        })
    return out


def _ancestors(ix: SiteIndex, code: str) -> list[str]:
    """Return the adcode and the units above it."""
    chain = []
    while code and code not in chain:
        chain.append(code)
        code = ix.parent.get(code) or ""
    return chain


def _headline(clauses: list[dict], n: int = 5) -> list[dict]:
    """Return the clauses with the largest stated amounts (amount or cap), largest first."""
    def amount(c: dict) -> float:
        """The larger of amount and cap, in 万元 (per-unit amounts such as 元/m² are not headline sums)."""
        values = [m["value"] * TO_WAN_YUAN[m.get("unit", "万元")] for m in (c.get("amount"), c.get("cap"))
                  if m and m.get("value") is not None and m.get("unit", "万元") in TO_WAN_YUAN
                  and not m.get("per")]
        return max(values) if values else -1.0

    top = sorted((c for c in clauses if amount(c) >= 0), key=amount, reverse=True)[:n]
    return [{k: c.get(k) for k in ("id", "plan", "title_zh", "title_en", "amount", "cap")} for c in top]
