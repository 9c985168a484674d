"""CQL2 (OGC API – Features Part 3): parse text or JSON, evaluate vectorised over a GeoDataFrame.

Parsing is done by cql2 (the Rust cql2-rs parser), which turns both encodings into CQL2 JSON;
this module walks that JSON tree once per request and evaluates each node over whole columns
(numpy/pandas/shapely), never row by row. Logic is three-valued as CQL2 requires: a comparison
with a null is unknown, and only rows whose filter is true are returned.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import cql2
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoservice import crs as crs_module

MAX_FILTER_CHARS = 20_000
MAX_FILTER_VERTICES = 1_000  # a GET filter of 20,000 characters holds ~1,500 vertices
GEOMETRY_QUERYABLE = "geom"


class FilterError(ValueError):
    """A filter that cannot be parsed or does not fit the collection (a client error)."""


def parse(text: str, lang: str) -> dict:
    """Parse a CQL2 text or JSON filter into CQL2 JSON."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"filter longer than {MAX_FILTER_CHARS} characters")
    try:
        expr = cql2.parse_json(text) if lang == "cql2-json" else cql2.parse_text(text)
        tree = expr.to_json()
    except Exception as exc:  # cql2 raises its own ParseError/ValueError types
        raise FilterError(f"invalid {lang} filter: {str(exc).strip()}") from None
    if not isinstance(tree, (dict, bool)):
        raise FilterError("a filter must be a boolean expression")
    return tree


def properties_used(tree: Any) -> set[str]:
    """Return every property a filter refers to."""
    found: set[str] = set()
    if isinstance(tree, dict):
        if "property" in tree:
            found.add(tree["property"])
        for value in tree.values():
            found |= properties_used(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= properties_used(value)
    return found


def _count_vertices(tree: Any) -> int:
    """Count coordinates in literal geometries."""
    if isinstance(tree, dict):
        if "coordinates" in tree:
            return int(np.asarray(tree["coordinates"], dtype=object).size)
        if "geometries" in tree:
            return sum(_count_vertices(g) for g in tree["geometries"])
        return sum(_count_vertices(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(_count_vertices(v) for v in tree)
    return 0


@dataclass(frozen=True)
class Context:
    """What evaluation needs besides the tree: the rows and how literals' geometries are given."""

    frame: pd.DataFrame
    geometry: np.ndarray  # shapely geometries in CRS84
    filter_crs: crs_module.CRSInfo
    column_types: Mapping[str, str]  # queryable name → JSON type ('string', 'number', ...)


def evaluate(tree: Any, ctx: Context) -> np.ndarray:
    """Return the boolean row mask selected by a CQL2 JSON filter."""
    if _count_vertices(tree) > MAX_FILTER_VERTICES:
        raise FilterError(f"filter geometries have more than {MAX_FILTER_VERTICES} vertices")
    result = _truth(_eval(tree, ctx), len(ctx.frame))
    return result.fillna(False).to_numpy(dtype=bool)


# ---- values -------------------------------------------------------------------------------

def _is_series(v: Any) -> bool:
    return isinstance(v, pd.Series)


def _eval(node: Any, ctx: Context) -> Any:
    """Evaluate a node to a Series (per row) or a scalar."""
    if isinstance(node, dict):
        if "property" in node:
            return _property(node["property"], ctx)
        if "op" in node:
            op = node["op"]
            handler = _OPS.get(op) or _OPS.get(op.lower())
            if handler is None:
                raise FilterError(f"unsupported CQL2 operator {op!r}")
            return handler(node.get("args", []), ctx)
        if "date" in node:
            return _timestamp(node["date"], date=True)
        if "timestamp" in node:
            return _timestamp(node["timestamp"])
        if "interval" in node:
            return tuple(_eval(v, ctx) if isinstance(v, dict) else _interval_end(v) for v in node["interval"])
        if "bbox" in node:
            return _literal_geometry({"bbox": node["bbox"]}, ctx)
        if "type" in node:
            return _literal_geometry(node, ctx)
        raise FilterError(f"unrecognised CQL2 node {sorted(node)}")
    if isinstance(node, list):
        return tuple(_eval(v, ctx) for v in node)
    return node


def _property(name: str, ctx: Context) -> Any:
    """Return a property's column (the geometry for the spatial queryable)."""
    if name == GEOMETRY_QUERYABLE:
        return pd.Series(ctx.geometry, index=ctx.frame.index, dtype=object)
    if name not in ctx.column_types:
        raise FilterError(f"unknown property {name!r}; see the collection's queryables")
    return ctx.frame[name]


def _timestamp(text: str, date: bool = False) -> pd.Timestamp:
    """Parse a date or timestamp literal."""
    try:
        value = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise FilterError(f"invalid {'date' if date else 'timestamp'} {text!r}") from None
    if date:
        return value.normalize().tz_localize(None) if value.tzinfo else value.normalize()
    return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")


def _interval_end(text: str) -> pd.Timestamp | None:
    """Parse one end of an interval ('..' is open)."""
    if text == "..":
        return None
    return _timestamp(text, date=len(text) == 10)


def _literal_geometry(node: dict, ctx: Context) -> BaseGeometry:
    """Make a shapely geometry from a GeoJSON or bbox literal, in CRS84."""
    try:
        if "bbox" in node:
            b = node["bbox"]
            corners = (b[0], b[1], b[3], b[4]) if len(b) == 6 else tuple(b)
            return crs_module.bbox_to_crs84(corners, ctx.filter_crs)
        geom = shapely.geometry.shape(node)
    except Exception as exc:
        raise FilterError(f"invalid geometry literal: {exc}") from None
    if not geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = shapely.make_valid(geom)
    return crs_module.to_crs84(geom, ctx.filter_crs)


# ---- three-valued logic -------------------------------------------------------------------

def _truth(value: Any, n: int) -> pd.Series:
    """Coerce a node's value to a nullable boolean Series."""
    if _is_series(value):
        if value.dtype == "boolean":
            return value
        return value.astype("boolean") if value.dtype == bool else value.map(
            lambda v: pd.NA if v is None or v is pd.NA else bool(v)).astype("boolean")
    if value is None:
        return pd.Series([pd.NA] * n, dtype="boolean")
    if isinstance(value, bool):
        return pd.Series([value] * n, dtype="boolean")
    raise FilterError("a filter operand must be boolean")


def _nulls(*values: Any) -> Any:
    """Return the rows where any operand is null (a Series), or a scalar bool."""
    mask: Any = False
    for v in values:
        if _is_series(v):
            mask = mask | v.isna().to_numpy() if not isinstance(mask, bool) else v.isna().to_numpy()
        elif v is None:
            return True
    return mask


def _with_nulls(result: Any, *operands: Any, index=None) -> Any:
    """Turn a raw comparison result into a nullable boolean, unknown where an operand is null."""
    nulls = _nulls(*operands)
    if not any(_is_series(v) for v in operands):
        return None if nulls is True else bool(result)
    if index is None:
        index = next(v.index for v in operands if _is_series(v))
    out = pd.Series(np.asarray(result, dtype=bool), index=index, dtype="boolean")
    if nulls is True:
        out[:] = pd.NA
    elif not isinstance(nulls, bool):
        out[nulls] = pd.NA
    return out


def _n(ctx: Context) -> int:
    return len(ctx.frame)


def _and(args: list, ctx: Context) -> pd.Series:
    out = _truth(_eval(args[0], ctx), _n(ctx))
    for a in args[1:]:
        out = out & _truth(_eval(a, ctx), _n(ctx))
    return out


def _or(args: list, ctx: Context) -> pd.Series:
    out = _truth(_eval(args[0], ctx), _n(ctx))
    for a in args[1:]:
        out = out | _truth(_eval(a, ctx), _n(ctx))
    return out


def _not(args: list, ctx: Context) -> pd.Series:
    return ~_truth(_eval(args[0], ctx), _n(ctx))


# ---- comparison ---------------------------------------------------------------------------

def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Align types: a column of ISO strings against a date/timestamp literal becomes datetimes."""
    if isinstance(b, pd.Timestamp) and _is_series(a) and a.dtype == object:
        a = pd.to_datetime(a, errors="coerce", utc=b.tzinfo is not None)
    if isinstance(a, pd.Timestamp) and _is_series(b):
        b, a = _comparable(b, a)
    return a, b


def _compare(fn: Callable) -> Callable:
    """Make a comparison operator handler."""

    def handler(args: list, ctx: Context) -> Any:
        a, b = (_eval(x, ctx) for x in args)
        a, b = _comparable(a, b)
        try:
            if _is_series(a) or _is_series(b):
                aa = a.where(a.notna(), None) if _is_series(a) else a
                bb = b.where(b.notna(), None) if _is_series(b) else b
                raw = _safe_vector(fn, aa, bb)
            else:
                raw = fn(a, b) if a is not None and b is not None else False
        except TypeError:
            raise FilterError(f"cannot compare {type(a).__name__} with {type(b).__name__}") from None
        return _with_nulls(raw, a, b)

    return handler


def _safe_vector(fn: Callable, a: Any, b: Any) -> np.ndarray:
    """Apply a comparison elementwise, treating type mismatches on null rows as false."""
    left = a.to_numpy(dtype=object) if _is_series(a) else a
    right = b.to_numpy(dtype=object) if _is_series(b) else b
    n = len(left) if _is_series(a) else len(right)
    lv = left if _is_series(a) else [left] * n
    rv = right if _is_series(b) else [right] * n
    out = np.zeros(n, dtype=bool)
    for i, (x, y) in enumerate(zip(lv, rv)):
        if x is None or y is None:
            continue
        out[i] = fn(x, y)
    return out


def _between(args: list, ctx: Context) -> Any:
    value, low, high = (_eval(x, ctx) for x in args)
    ge = _compare(operator.ge)([args[0], args[1]], ctx)
    le = _compare(operator.le)([args[0], args[2]], ctx)
    if _is_series(ge) or _is_series(le):
        return _truth(ge, _n(ctx)) & _truth(le, _n(ctx))
    return None if ge is None or le is None else ge and le


def _in(args: list, ctx: Context) -> Any:
    value = _eval(args[0], ctx)
    options = _eval(args[1], ctx)
    if not isinstance(options, tuple):
        raise FilterError("IN needs a list")
    if _is_series(value):
        return _with_nulls(value.isin(list(options)).to_numpy(), value)
    return None if value is None else value in options


def _is_null(args: list, ctx: Context) -> Any:
    value = _eval(args[0], ctx)
    if _is_series(value):
        isna = value.isna() if value.dtype != object else value.map(lambda v: v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
        return isna.astype("boolean")
    return value is None


def _like_regex(pattern: str) -> re.Pattern:
    """Translate a CQL2 LIKE pattern (% _ and backslash escapes) to a regex."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _like(args: list, ctx: Context) -> Any:
    value, pattern = (_eval(x, ctx) for x in args)
    if not isinstance(pattern, str):
        raise FilterError("LIKE needs a string pattern")
    regex = _like_regex(pattern)
    if _is_series(value):
        hits = value.map(lambda v: isinstance(v, str) and regex.fullmatch(v) is not None)
        return _with_nulls(hits.to_numpy(dtype=bool), value)
    return None if value is None else regex.fullmatch(str(value)) is not None


def _fold(fn: Callable[[str], str]) -> Callable:
    """Make CASEI/ACCENTI: fold strings (columns or literals)."""

    def handler(args: list, ctx: Context) -> Any:
        value = _eval(args[0], ctx)
        if _is_series(value):
            return value.map(lambda v: fn(v) if isinstance(v, str) else v)
        return fn(value) if isinstance(value, str) else value

    return handler


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _arith(fn: Callable) -> Callable:
    def handler(args: list, ctx: Context) -> Any:
        a, b = (_eval(x, ctx) for x in args)
        try:
            if _is_series(a):
                a = pd.to_numeric(a, errors="coerce")
            if _is_series(b):
                b = pd.to_numeric(b, errors="coerce")
            return fn(a, b)
        except (TypeError, ZeroDivisionError):
            raise FilterError("invalid arithmetic operands") from None

    return handler


# ---- spatial ------------------------------------------------------------------------------

def _spatial(fn: Callable) -> Callable:
    """Make a spatial predicate handler over the geometry column."""

    def handler(args: list, ctx: Context) -> Any:
        a, b = (_eval(x, ctx) for x in args)
        for v in (a, b):
            if not (_is_series(v) or isinstance(v, BaseGeometry)):
                raise FilterError("spatial predicates take geometries")
        left = a.to_numpy() if _is_series(a) else a
        right = b.to_numpy() if _is_series(b) else b
        if isinstance(right, BaseGeometry):
            shapely.prepare(right)
        raw = fn(left, right)
        raw = np.where(pd.isna(raw), False, raw).astype(bool) if isinstance(raw, np.ndarray) else bool(raw)
        return _with_nulls(raw, *(v if _is_series(v) else v for v in (a, b)), index=ctx.frame.index)

    return handler


# ---- temporal -----------------------------------------------------------------------------

def _bounds(value: Any) -> tuple[Any, Any]:
    """Return (start, end) of an instant or interval, as Series or scalars (None = open)."""
    if isinstance(value, tuple):
        return value[0], value[1]
    if _is_series(value) and value.dtype == object:
        value = pd.to_datetime(value, errors="coerce", utc=True)
    return value, value


def _align(x: Any, ref: Any) -> Any:
    """Make naive/aware timestamps comparable (dates are midnight UTC)."""
    if isinstance(x, pd.Timestamp) and x.tzinfo is None:
        return x.tz_localize("UTC")
    if _is_series(x) and pd.api.types.is_datetime64_any_dtype(x) and x.dt.tz is None:
        return x.dt.tz_localize("UTC")
    return x


def _temporal(rule: Callable) -> Callable:
    def handler(args: list, ctx: Context) -> Any:
        a, b = (_eval(x, ctx) for x in args)
        (s1, e1), (s2, e2) = _bounds(a), _bounds(b)
        s1, e1, s2, e2 = (_align(v, None) for v in (s1, e1, s2, e2))
        lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
        s1 = lo if s1 is None else s1
        s2 = lo if s2 is None else s2
        e1 = hi if e1 is None else e1
        e2 = hi if e2 is None else e2
        raw = rule(s1, e1, s2, e2)
        series = [v for v in (a if not isinstance(a, tuple) else a[0], b if not isinstance(b, tuple) else b[0]) if _is_series(v)]
        if not series:
            return bool(raw)
        col = series[0]
        nulls = pd.to_datetime(col, errors="coerce", utc=True).isna().to_numpy() if col.dtype == object else col.isna().to_numpy()
        out = pd.Series(np.asarray(raw, dtype=bool), index=ctx.frame.index, dtype="boolean")
        out[nulls] = pd.NA
        return out

    return handler


def _arrays(rule: Callable[[set, set], bool]) -> Callable:
    def handler(args: list, ctx: Context) -> Any:
        a, b = (_eval(x, ctx) for x in args)

        def as_set(v: Any) -> set | None:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return None
            return set(v) if isinstance(v, (list, tuple, np.ndarray)) else {v}

        if _is_series(a) or _is_series(b):
            left = a if _is_series(a) else pd.Series([a] * _n(ctx), index=ctx.frame.index)
            right = b if _is_series(b) else pd.Series([b] * _n(ctx), index=ctx.frame.index)
            values = [(as_set(x), as_set(y)) for x, y in zip(left, right)]
            out = pd.Series([pd.NA if x is None or y is None else rule(x, y) for x, y in values],
                            index=ctx.frame.index, dtype="boolean")
            return out
        x, y = as_set(a), as_set(b)
        return None if x is None or y is None else rule(x, y)

    return handler


_OPS: dict[str, Callable] = {
    "and": _and, "or": _or, "not": _not,
    "=": _compare(operator.eq), "<>": _compare(operator.ne), "<": _compare(operator.lt),
    ">": _compare(operator.gt), "<=": _compare(operator.le), ">=": _compare(operator.ge),
    "between": _between, "in": _in, "isNull": _is_null, "isnull": _is_null, "like": _like,
    "casei": _fold(str.casefold), "accenti": _fold(_strip_accents),
    "+": _arith(operator.add), "-": _arith(operator.sub), "*": _arith(operator.mul),
    "/": _arith(operator.truediv), "%": _arith(operator.mod), "div": _arith(operator.floordiv),
    "^": _arith(operator.pow),
    "s_intersects": _spatial(shapely.intersects), "s_equals": _spatial(shapely.equals),
    "s_disjoint": _spatial(shapely.disjoint), "s_touches": _spatial(shapely.touches),
    "s_within": _spatial(shapely.within), "s_overlaps": _spatial(shapely.overlaps),
    "s_crosses": _spatial(shapely.crosses), "s_contains": _spatial(shapely.contains),
    "t_after": _temporal(lambda s1, e1, s2, e2: s1 > e2),
    "t_before": _temporal(lambda s1, e1, s2, e2: e1 < s2),
    "t_contains": _temporal(lambda s1, e1, s2, e2: (s1 < s2) & (e1 > e2)),
    "t_disjoint": _temporal(lambda s1, e1, s2, e2: (e1 < s2) | (s1 > e2)),
    "t_during": _temporal(lambda s1, e1, s2, e2: (s1 > s2) & (e1 < e2)),
    "t_equals": _temporal(lambda s1, e1, s2, e2: (s1 == s2) & (e1 == e2)),
    "t_finishedby": _temporal(lambda s1, e1, s2, e2: (s1 < s2) & (e1 == e2)),
    "t_finishes": _temporal(lambda s1, e1, s2, e2: (s1 > s2) & (e1 == e2)),
    "t_intersects": _temporal(lambda s1, e1, s2, e2: (s1 <= e2) & (e1 >= s2)),
    "t_meets": _temporal(lambda s1, e1, s2, e2: e1 == s2),
    "t_metby": _temporal(lambda s1, e1, s2, e2: s1 == e2),
    "t_overlappedby": _temporal(lambda s1, e1, s2, e2: (s1 > s2) & (s1 < e2) & (e1 > e2)),
    "t_overlaps": _temporal(lambda s1, e1, s2, e2: (s1 < s2) & (e1 > s2) & (e1 < e2)),
    "t_startedby": _temporal(lambda s1, e1, s2, e2: (s1 == s2) & (e1 > e2)),
    "t_starts": _temporal(lambda s1, e1, s2, e2: (s1 == s2) & (e1 < e2)),
    "a_equals": _arrays(lambda x, y: x == y), "a_contains": _arrays(lambda x, y: x >= y),
    "a_containedby": _arrays(lambda x, y: x <= y), "a_overlaps": _arrays(lambda x, y: bool(x & y)),
}
