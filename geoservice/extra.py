"""Extra collections: a user's own GeoJSON or GeoPackage files, served like the built-in ones.

FILE is YAML: a list of {id, title, path[, description, layer]} (paths relative to FILE).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geoservice.boundaries import read_geojson
from geoservice.catalog import Collection
from geoservice.problems import DataError, Problem
from geoservice.yamlfile import read_yaml


class ExtraSpec(BaseModel):
    """One entry of the extra-collections file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    path: str
    description: str = ""
    layer: str | None = None


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Read a GeoJSON (keeping feature ids) or any OGR-readable file into CRS84."""
    if path.suffix.lower() in (".geojson", ".json"):
        import orjson

        ids = [f.get("id") for f in orjson.loads(path.read_bytes())["features"]]
        frame = read_geojson(path)
        if "id" not in frame.columns and any(i is not None for i in ids):
            frame.insert(0, "id", ids)
    else:
        frame = gpd.read_file(path, layer=layer, fid_as_index=True)
        if "id" not in frame.columns:
            frame.insert(0, "id", frame.index.astype("int64"))
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if "id" not in frame.columns:
        frame.insert(0, "id", range(1, len(frame) + 1))
    frame = frame.reset_index(drop=True)
    for name in frame.columns:
        if frame[name].dtype.kind == "M":  # datetimes from GeoPackage → ISO strings like GeoJSON
            frame[name] = frame[name].map(lambda v: None if pd.isna(v) else v.isoformat())
    return frame.set_crs(4326, allow_override=True)


def read_extra_specs(config: Path) -> list[ExtraSpec]:
    """Read the extra-collections file (not the files it lists)."""
    display = str(config)
    doc = read_yaml(config)
    entries = doc.get("collections", doc) if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise DataError([Problem(display, "expected a list of {id, title, path} entries")])
    specs, problems = [], []
    for i, entry in enumerate(entries):
        try:
            specs.append(ExtraSpec.model_validate(entry))
        except ValidationError as exc:
            problems += [Problem(display, e["msg"], f"entry {i}", ".".join(map(str, e["loc"]))) for e in exc.errors()]
    if problems:
        raise DataError(problems)
    return specs


def load_extra_collections(config: Path) -> list[Collection]:
    """Read the extra-collections file and every file it lists."""
    collections, problems = [], []
    for spec in read_extra_specs(config):
        path = (config.parent / spec.path).resolve()
        if not path.exists():
            problems.append(Problem(str(config), f"file not found: {path}", spec.id, "path"))
            continue
        frame = _read(path, spec.layer)
        collections.append(Collection(spec.id, spec.title, spec.description or spec.title, frame, (spec.id,)))
    if problems:
        raise DataError(problems)
    return collections
