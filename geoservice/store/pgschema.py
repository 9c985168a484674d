"""How a collection is laid out in PostGIS: table names, column kinds, helper columns and functions.

One table per collection in schema `geoservice`: the collection's own columns (text, float8,
bigint, boolean or jsonb by their JSON type), `geom` (geometry, SRID 4326, CRS84 axis order),
and helper columns the store needs to answer exactly as the memory store does:
`_ord` (row order: the default order and the tie-break of every sort), `_search` (the folded
names that text search looks in) and `_sort_<name>` (the text by which list/object values sort).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import geopandas as gpd
import pandas as pd

from geoservice.catalog import Collection

SCHEMA = "geoservice"
META_TABLE = "_collections"
GEOMETRY = "geom"
ORDER = "_ord"
SEARCH = "_search"
SORT_PREFIX = "_sort_"

@dataclass(frozen=True)
class StoredCollection(Collection):
    """A collection whose rows live only in PostGIS (a database-only worker holds none of them): its
    frame is empty, with the columns and dtypes of the loaded one; its schema, extent and size are
    those `db load` recorded (see `stored_schema`)."""

    stored: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_schema(cls, id: str, title: str, description: str, schema: Mapping[str, Any]) -> "StoredCollection":
        """Make the collection from the schema recorded at load."""
        columns = {n: pd.Series([], dtype=pd.api.types.pandas_dtype(d)) for n, d in schema["dtypes"]}
        frame = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
        return cls(id, title, description, frame, (id,), stored=schema)

    @cached_property
    def extent(self) -> tuple[float, float, float, float] | None:
        return tuple(self.stored["extent"]) if self.stored["extent"] else None

    @cached_property
    def properties(self) -> dict[str, dict[str, Any]]:
        return dict(self.stored["properties"])  # pairs: jsonb objects do not keep key order

    @cached_property
    def geometry_types(self) -> tuple[str, ...]:
        return tuple(self.stored["geometry_types"])

    @property
    def number_of_features(self) -> int:
        return int(self.stored["rows"])


def stored_schema(collection: Collection, filter_kinds: Mapping[str, str]) -> dict[str, Any]:
    """Return what a database-only worker needs to know of a collection without its rows (ordered
    mappings as lists of pairs: jsonb objects do not keep key order)."""
    frame = collection.frame
    return {"rows": len(frame), "properties": list(collection.properties.items()),
            "filter_kinds": dict(filter_kinds), "extent": collection.extent,
            "geometry_types": list(collection.geometry_types),
            "dtypes": [[n, str(frame[n].dtype)] for n in frame.columns if n != frame.geometry.name]}


def fingerprint(collection: Collection) -> str:
    """Return a digest of a collection's content (its encoded features), recorded at load.

    When the database's digest equals the catalog's, the tables hold exactly the catalog's rows
    (`_ord` = row position), so the store may answer pages from the catalog's encoded features.
    """
    import hashlib

    digest = hashlib.sha256(str(len(collection.frame)).encode())
    for feature in collection.encoded_features:
        digest.update(feature)
        digest.update(b"\n")
    return digest.hexdigest()


# JSON Schema type of a property → how it is stored.
KIND_OF_TYPE = {"string": "text", "number": "number", "integer": "integer", "boolean": "boolean",
                "array": "jsonb", "object": "jsonb"}
SQL_TYPE = {"text": "text", "number": "double precision", "integer": "bigint", "boolean": "boolean",
            "jsonb": "jsonb"}
RESERVED = (GEOMETRY, ORDER, SEARCH)

# Helpers that never fail: a bad value becomes null, as pandas' errors="coerce" does in memory.
FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.try_float8(v text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN RETURN v::double precision; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION {SCHEMA}.try_timestamptz(v text) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN RETURN v::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION {SCHEMA}.as_array(v jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN v IS NULL THEN NULL WHEN jsonb_typeof(v) = 'array' THEN v ELSE jsonb_build_array(v) END $$;
"""


class SchemaError(ValueError):
    """A collection that cannot be stored as it is (e.g. a column name the store reserves)."""


def column_kinds(collection: Collection) -> dict[str, str]:
    """Return each property's storage kind (text, number, integer, boolean, jsonb)."""
    kinds = {name: KIND_OF_TYPE.get(spec.get("type", "string"), "text")
             for name, spec in collection.properties.items()}
    clash = [n for n in kinds if n in RESERVED or n.startswith(SORT_PREFIX)]
    if clash:
        raise SchemaError(f"collection {collection.id!r}: column names {clash} are reserved by the PostGIS store")
    return kinds


def sort_column(name: str, kinds: Mapping[str, str]) -> str:
    """Return the column a property sorts (and simple-filters, for objects) by."""
    return SORT_PREFIX + name if kinds.get(name) == "jsonb" else name
