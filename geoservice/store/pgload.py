"""`geoservice db load`: copy collections into PostGIS tables with their indexes, atomically per collection."""

from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import shapely

from geoservice.catalog import Catalog, Collection
from geoservice.store.memory import search_keys, sort_key
from geoservice.store.pgschema import (
    FUNCTIONS_SQL,
    GEOMETRY,
    META_TABLE,
    ORDER,
    SCHEMA,
    SEARCH,
    SORT_PREFIX,
    SQL_TYPE,
    column_kinds,
    fingerprint,
    stored_schema,
)
from geoservice.store.postgis import connect, filter_kinds, psycopg_modules

SETUP_SQL = f"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.{META_TABLE} (
  id text PRIMARY KEY, rows bigint NOT NULL, kinds jsonb NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE {SCHEMA}.{META_TABLE} ADD COLUMN IF NOT EXISTS fingerprint text;
ALTER TABLE {SCHEMA}.{META_TABLE} ADD COLUMN IF NOT EXISTS schema jsonb;
"""


def _text(value: Any) -> str | None:
    """Return a text cell (missing → null)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value if isinstance(value, str) else str(value)


def _number(value: Any) -> float | None:
    """Return a number cell (missing → null)."""
    if value is None or value is pd.NA:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _json(value: Any) -> Any:
    """Return a JSON-ready value (numpy arrays and scalars as Python)."""
    if isinstance(value, np.ndarray):
        return [_json(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(collection: Collection, kinds: dict[str, str]) -> Iterator[tuple]:
    """Yield the COPY rows of a collection: _ord, properties, geometry (EWKB hex), search key, sort keys."""
    from psycopg.types.json import Jsonb

    frame = collection.frame
    names = list(kinds)
    geoms = shapely.set_srid(np.asarray(frame.geometry.values, dtype=object), 4326)
    ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
    search = search_keys(frame)
    jsonb = [n for n in names if kinds[n] == "jsonb"]
    columns = {n: frame[n].tolist() for n in names}
    for i in range(len(frame)):
        cells: list[Any] = [i]
        for n in names:
            v = columns[n][i]
            kind = kinds[n]
            if kind == "jsonb":
                v = None if v is None or (isinstance(v, float) and math.isnan(v)) else Jsonb(_json(v))
            elif kind == "text":
                v = _text(v)
            elif kind == "integer":
                v = None if _number(v) is None else int(v)
            elif kind == "number":
                v = _number(v)
            else:
                v = None if v is None or v is pd.NA else bool(v)
            cells.append(v)
        cells.append(ewkb[i])
        cells.append(search[i])
        for n in jsonb:
            key = sort_key(columns[n][i])
            cells.append(None if key is None or (isinstance(key, float) and math.isnan(key)) else str(key))
        yield tuple(cells)


def load_collection(conn, collection: Collection) -> int:
    """Replace one collection's table (in the caller's transaction); return its row count."""
    sql = psycopg_modules().sql
    kinds = column_kinds(collection)
    table = sql.Identifier(SCHEMA, collection.id)
    jsonb = [n for n in kinds if kinds[n] == "jsonb"]
    defs = [sql.SQL("{} bigint PRIMARY KEY").format(sql.Identifier(ORDER))]
    defs += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(SQL_TYPE[k])) for n, k in kinds.items()]
    defs += [sql.SQL("{} geometry(Geometry, 4326)").format(sql.Identifier(GEOMETRY)),
             sql.SQL("{} text").format(sql.Identifier(SEARCH))]
    defs += [sql.SQL("{} text").format(sql.Identifier(SORT_PREFIX + n)) for n in jsonb]
    columns = [ORDER, *kinds, GEOMETRY, SEARCH, *(SORT_PREFIX + n for n in jsonb)]
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(defs)))
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
            table, sql.SQL(", ").join(map(sql.Identifier, columns)))) as copy:
        for row in _rows(collection, kinds):
            copy.write_row(row)
    _index(conn, collection.id, kinds)
    n = len(collection.frame)
    jsonb = psycopg_modules().Jsonb
    schema = stored_schema(collection, filter_kinds(collection, kinds))  # for database-only workers
    conn.execute(sql.SQL(
        "INSERT INTO {} (id, rows, kinds, fingerprint, schema) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET rows = EXCLUDED.rows, kinds = EXCLUDED.kinds, "
        "fingerprint = EXCLUDED.fingerprint, schema = EXCLUDED.schema, loaded_at = now()"
    ).format(sql.Identifier(SCHEMA, META_TABLE)), (collection.id, n, jsonb(kinds), fingerprint(collection),
                                                    jsonb(schema)))
    return n


def _index(conn, collection_id: str, kinds: dict[str, str]) -> None:
    """Create the spatial, id, list-membership and text-search indexes of one table."""
    sql = psycopg_modules().sql
    table = sql.Identifier(SCHEMA, collection_id)
    geom = sql.Identifier(GEOMETRY)
    statements = [
        sql.SQL("CREATE INDEX ON {} USING gist ({})").format(table, geom),
        sql.SQL("CREATE INDEX ON {} USING gist (({}::geography))").format(table, geom),
        sql.SQL("CREATE INDEX ON {} USING gin ({} gin_trgm_ops)").format(table, sql.Identifier(SEARCH)),
    ]
    if "id" in kinds:
        key = sql.SQL("({})") if kinds["id"] == "text" else sql.SQL("(({}::text))")
        statements.append(sql.SQL("CREATE INDEX ON {} ").format(table) + sql.SQL("USING btree ") +
                          key.format(sql.Identifier("id")))
    statements += [sql.SQL("CREATE INDEX ON {} USING gin ({})").format(table, sql.Identifier(n))
                   for n, k in kinds.items() if k == "jsonb"]
    statements += [sql.SQL("CREATE INDEX ON {} ({})").format(table, sql.Identifier(n))
                   for n, k in kinds.items() if k in ("number", "integer", "boolean", "text") and n != "id"]
    # filters compare numbers as double precision (as the memory store does): index integers that way too
    statements += [sql.SQL("CREATE INDEX ON {} (({}::double precision))").format(table, sql.Identifier(n))
                   for n, k in kinds.items() if k == "integer"]
    for statement in statements:
        conn.execute(statement)
    conn.execute(sql.SQL("ANALYZE {}").format(table))


def load(url: str, collections: Iterable[Collection]) -> dict[str, int]:
    """Load collections into the database at url; each one replaced in its own transaction."""
    counts: dict[str, int] = {}
    with connect(url) as conn:
        with conn.transaction():
            conn.execute(SETUP_SQL)
            conn.execute(FUNCTIONS_SQL)
        for collection in collections:
            with conn.transaction():
                counts[collection.id] = load_collection(conn, collection)
        conn.autocommit = True  # VACUUM runs outside a transaction
        for collection in collections:
            # the visibility map lets counts over an index skip the table (index-only scans)
            conn.execute(psycopg_modules().sql.SQL("VACUUM (ANALYZE) {}").format(
                psycopg_modules().sql.Identifier(SCHEMA, collection.id)))
    return counts


def load_catalog(url: str, catalog: Catalog) -> dict[str, int]:
    """Load every collection of a catalog."""
    return load(url, catalog.collections.values())
