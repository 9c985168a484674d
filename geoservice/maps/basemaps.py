"""Basemaps (data/maps/basemaps.yaml) and the datum shift of overlays onto them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from geoservice.chinese_datums import FROM_WGS84, transform_geometry
from geoservice.yamlfile import read_yaml


class BasemapError(ValueError):
    """A basemap that does not exist or cannot be used as asked (e.g. a missing key)."""


@dataclass(frozen=True)
class Basemap:
    """One basemap: its tile layers and the datum they are drawn in."""

    name: str
    label_zh: str
    label_en: str
    datum: str
    max_zoom: int
    layers: tuple[dict, ...]
    needs_key: bool = False

    @property
    def tileless(self) -> bool:
        """Tell whether the page must draw its own ground (no tiles at all)."""
        return not self.layers

    def tile_urls(self, key: str = "") -> list[dict]:
        """Return the tile layers with the key filled in (error if one is needed and missing)."""
        if self.needs_key and not key:
            raise BasemapError(f"basemap {self.name!r} needs a key (GEOSERVICE_TIANDITU_KEY or --tianditu-key)")
        return [{**layer, "url": layer["url"].replace("{key}", key)} for layer in self.layers]

    def shift(self, geometry: BaseGeometry | None) -> BaseGeometry | None:
        """Move one WGS84 geometry into the basemap's datum."""
        func = FROM_WGS84.get(self.datum)
        if geometry is None or func is None:
            return geometry
        return transform_geometry(geometry, func)

    def shift_frame(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Move every geometry of a WGS84 frame into the basemap's datum (vectorised)."""
        func = FROM_WGS84.get(self.datum)
        if func is None:
            return frame
        out = frame.copy()
        mask = out.geometry.notna()
        out.loc[mask, "geometry"] = transform_geometry(out.geometry[mask].values, func)
        return out


def load_basemaps(data_dir: Path) -> dict[str, Basemap]:
    """Read data/maps/basemaps.yaml."""
    doc = read_yaml(data_dir / "maps" / "basemaps.yaml")
    return {
        name: Basemap(name=name, label_zh=b["label_zh"], label_en=b["label_en"], datum=b["datum"],
                      max_zoom=int(b.get("max_zoom", 18)), layers=tuple(b.get("layers") or ()),
                      needs_key=bool(b.get("needs_key", False)))
        for name, b in doc["basemaps"].items()
    }
