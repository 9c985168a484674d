"""The Python API: the catalog's layers as GeoDataFrames, and the service's queries, in a notebook.

    import geoservice
    atlas = geoservice.open()
    atlas["yantai-biomed-1p3x"]            # a GeoDataFrame (EPSG:4326)

A thin face over the catalog and the memory store: search and lookup are the functions the API
calls (geoservice.analysis), the maps are the pages' own Folium builder.
"""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geoservice import crs as crs_module
from geoservice.analysis.lookup import PlaceLookup, lookup
from geoservice.analysis.search import search
from geoservice.catalog import BOUNDARIES_ID, INCENTIVES_ID, Catalog, build_catalog
from geoservice.maps import registry
from geoservice.maps.builder import build_map, self_contained
from geoservice.settings import Settings
from geoservice.store.memory import MemoryStore


class Atlas:
    """Every collection of the plans, the boundaries and the incentives, with their queries."""

    def __init__(self, catalog: Catalog, data_dir: Path) -> None:
        """Wrap a built catalog (see geoservice.open)."""
        self.catalog = catalog
        self.data_dir = data_dir
        self.store = MemoryStore(catalog)
        self._maps: registry.Atlas | None = None

    def __repr__(self) -> str:
        counts = ", ".join(f"{cid} ({len(c.frame)})" for cid, c in self.catalog.collections.items())
        return f"<geoservice atlas of {self.data_dir}: {counts}>"

    @property
    def collections(self) -> list[str]:
        """Return the ids of every collection (plans, boundaries, incentives)."""
        return list(self.catalog.collections)

    def __getitem__(self, collection_id: str) -> gpd.GeoDataFrame:
        """Return a collection's features as a GeoDataFrame in EPSG:4326 (a copy: yours)."""
        if collection_id not in self.catalog:
            raise KeyError(f"no collection {collection_id!r}; one of {', '.join(self.collections)}")
        return self.catalog[collection_id].frame.copy()

    @property
    def plans(self) -> pd.DataFrame:
        """Return one row per plan: titles, issuer, document number, date, status, counts."""
        rows = []
        for plan_id, plan in self.catalog.plans.items():
            header = plan.plan.model_dump(exclude={"id", "seed"})
            rows.append(
                {
                    "id": plan_id,
                    **header,
                    "features": len(self.catalog[plan_id].frame),
                    "incentives": len(plan.incentives),
                }
            )
        return pd.DataFrame(rows).set_index("id")

    @property
    def boundaries(self) -> gpd.GeoDataFrame:
        """Return the province, city and district polygons (column level, adcode, names)."""
        return self[BOUNDARIES_ID]

    @property
    def incentives(self) -> gpd.GeoDataFrame:
        """Return the plans' support measures (no geometry; `jurisdiction` is where they apply)."""
        return self[INCENTIVES_ID]

    def search(
        self,
        sector: str | None = None,
        kind: str | None = None,
        q: str | None = None,
        district: str | None = None,
        plan: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the features of every plan matching all the criteria given: sector (code, Chinese
        or English name, synonym; sub-sectors included), kind (code or name), q (text in names,
        pinyin too), district (adcode), plan (id). No criterion: every plan feature."""
        return search(self.catalog, self.store, sector, kind, q, district, plan)

    def lookup(
        self, lon: float, lat: float, k: int = 5, crs: str = crs_module.CRS84
    ) -> PlaceLookup:
        """Return what is at a point: its province/city/district (`.unit(level)`), each plan's areas
        containing it (`.plans`), the k nearest sited elements (`.nearest`, distance_m) and the
        incentives applying there (`.incentives`). crs: "GCJ-02" for AMap/Tencent coordinates,
        "BD-09" for Baidu's (default WGS84 lon/lat)."""
        point = crs_module.to_crs84(Point(lon, lat), crs_module.resolve(crs))
        return lookup(self.catalog, self.data_dir, point, k)

    def explore(
        self, plan: str = registry.OVERVIEW, basemap: str = "osm", lang: str = "both"
    ) -> folium.Map:
        """Return the interactive map of a plan (or of all plans: "overview"), the same page as
        /maps/{plan}; Jupyter shows it inline, with its scripts embedded (no server needed).
        basemap: osm | amap | tianditu | offline (no tiles); lang: both | zh | en."""
        maps = self._atlas_of_maps()
        specs = maps.specs()
        if plan not in specs:
            raise KeyError(f"no map {plan!r}; one of {', '.join(specs)}")
        fmap = build_map(
            maps.inputs(specs[plan]), maps.basemap(basemap), maps.keys.get(basemap, ""), lang
        )
        return self_contained(fmap)

    def _atlas_of_maps(self) -> registry.Atlas:
        """Return the maps registry (styles and basemaps read once)."""
        if self._maps is None:
            self._maps = registry.Atlas(self.catalog, self.data_dir)
        return self._maps


def open_atlas(data_dir: str | Path | None = None) -> Atlas:
    """Load the plans' data (default: the data shipped with the package) into an Atlas."""
    folder = Path(data_dir) if data_dir is not None else Settings().data_dir
    return Atlas(build_catalog(folder), folder)
