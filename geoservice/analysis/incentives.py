"""Which incentive clauses apply at a place for a sector."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geoservice.catalog import INCENTIVES_ID, Catalog


def applicable_incentives(
    catalog: Catalog, adcodes: Iterable[str], sectors: Iterable[str] | None = None
) -> pd.DataFrame:
    """Return the incentive clauses whose jurisdiction is one of `adcodes` (the province, city and
    district units that contain a site) and whose sectors match `sectors` (resolved codes; None:
    any sector). A clause naming no sector applies to every sector; one naming a broader sector
    (a parent code) covers its children. Adds `sector_match`: "all_sectors" or "sector"."""
    frame = catalog[INCENTIVES_ID].frame
    frame = frame[frame["jurisdiction"].isin(set(adcodes))]
    general = frame["sectors"].map(len) == 0
    if sectors is None:
        matches = pd.Series(True, index=frame.index)
    else:
        wanted = catalog.sectors.with_ancestors(sectors)
        matches = general | frame["sectors"].map(lambda codes: not wanted.isdisjoint(codes))
    out = frame[matches].copy()
    out["sector_match"] = general[matches].map({True: "all_sectors", False: "sector"})
    return out
