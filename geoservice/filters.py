"""CQL2 (OGC API – Features Part 3): parse text or JSON, evaluate vectorised over a GeoDataFrame.

Parsing is done by cql2 (the Rust cql2-rs parser), which turns both encodings into CQL2 JSON;
this module walks that JSON tree once per request and evaluates each node over whole columns
(numpy/pandas/shapely arrays), falling back to a per-row loop only for columns of mixed types.
Logic is three-valued as CQL2 requires: a comparison with a null is unknown, NOT unknown is
unknown, and only rows whose filter is true are returned.

An operand is a scalar (a literal, or an expression of literals), a `Column` (one value per
row: a numpy array of one kind with a null mask), a three-valued boolean array (a predicate's
result), an `Interval` or a tuple (an array literal). Times are numpy datetime64[us] in UTC;
a DATE is its midnight UTC. Checked against the OGC CQL2 Abstract Test Suite (tests/test_cql2_ats.py).
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

_TIME = "datetime64[us]"
_OPEN_START = np.datetime64(-(2**62), "us")
_OPEN_END = np.datetime64(2**62, "us")
_SCALAR_KINDS = ("number", "string", "boolean", "time")
# Letters that carry a diacritic but have no Unicode decomposition (NFD leaves them whole).
UNDECOMPOSED_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L",
                               "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ı": "i", "ƀ": "b", "ɨ": "i"})
COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

Truth = pd.arrays.BooleanArray  # one three-valued boolean per row


class FilterError(ValueError):
    """A filter that cannot be parsed or does not fit the collection (a client error)."""


def operation(node: dict, table: Mapping[str, Any]) -> tuple[Any, list]:
    """Return the handler an operator node names in table, and its argument list."""
    handler = table.get(str(node["op"]).lower())
    if handler is None:
        raise FilterError(f"unsupported CQL2 operator {node['op']!r}")
    args = node.get("args", [])
    if not isinstance(args, list):
        raise FilterError(f"the arguments of {node['op']!r} must be a list")
    return handler, args


def parse(text: str, lang: str) -> dict | bool:
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
        if isinstance(tree.get("property"), str):
            found.add(tree["property"])
        for value in tree.values():
            found |= properties_used(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= properties_used(value)
    return found


def count_vertices(tree: Any) -> int:
    """Count the positions of the literal geometries in a filter."""
    if isinstance(tree, dict):
        if "coordinates" in tree:
            return _count_positions(tree["coordinates"])
        if "bbox" in tree:
            return 2
        return sum(count_vertices(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(count_vertices(v) for v in tree)
    return 0


def _count_positions(coords: Any) -> int:
    """Count positions in nested GeoJSON coordinates."""
    if not isinstance(coords, list) or not coords:
        return 0
    if not isinstance(coords[0], list):
        return 1
    return sum(_count_positions(c) for c in coords)


@dataclass(frozen=True)
class Context:
    """What evaluation needs besides the tree: the rows and how literals' geometries are given."""

    frame: pd.DataFrame
    geometry: np.ndarray  # shapely geometries in CRS84
    filter_crs: crs_module.CRSInfo
    column_types: Mapping[str, str]  # queryable name → JSON type ('string', 'number', ...)
    columns: dict | None = None  # a cache of operand Columns for exactly these rows, shared between filters


def evaluate(tree: Any, ctx: Context) -> np.ndarray:
    """Return the boolean row mask selected by a CQL2 JSON filter."""
    if count_vertices(tree) > MAX_FILTER_VERTICES:
        raise FilterError(f"filter geometries have more than {MAX_FILTER_VERTICES} vertices")
    return Evaluator(ctx).truth(tree).to_numpy(dtype=bool, na_value=False)


# ---- operands -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One value per row: a numpy array of a single kind, and where it is null."""

    values: np.ndarray
    null: np.ndarray
    kind: str  # number | string | boolean | time | geometry | array | object | null


@dataclass(frozen=True)
class Interval:
    """A temporal interval: each end a datetime64 scalar or a time Column (open ends resolved)."""

    start: Any
    end: Any


def value_kind(value: Any) -> str:
    """Return the kind of an operand."""
    if isinstance(value, Column):
        return value.kind
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, np.datetime64):
        return "time"
    if isinstance(value, BaseGeometry):
        return "geometry"
    if isinstance(value, tuple):
        return "array"
    if isinstance(value, Interval):
        return "interval"
    return "predicate" if isinstance(value, Truth) else "object"


def as_column(series: pd.Series) -> Column:
    """Turn a frame column into a typed Column."""
    null = series.isna().to_numpy(dtype=bool)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Column(series.to_numpy(dtype=bool, na_value=False), null, "boolean")
    if pd.api.types.is_numeric_dtype(dtype):
        return Column(series.to_numpy(dtype=float, na_value=np.nan), null, "number")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        times = pd.to_datetime(series, utc=True).dt.tz_localize(None)
        return Column(times.to_numpy(dtype=_TIME), null, "time")
    raw = series.to_numpy(dtype=object, na_value=None)
    inferred = pd.api.types.infer_dtype(raw, skipna=True)
    if inferred == "string":
        return Column(np.where(null, "", raw).astype(str), null, "string")
    if inferred == "boolean":
        return Column(np.where(null, False, raw).astype(bool), null, "boolean")
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return Column(np.where(null, np.nan, raw).astype(float), null, "number")
    if null.all():
        return Column(raw, null, "null")
    if isinstance(raw[np.argmin(null)], (list, tuple, np.ndarray)):
        return Column(raw, null, "array")
    return Column(raw, null, "object")


def time_literal(text: str) -> np.datetime64:
    """Parse an ISO 8601 date or timestamp into datetime64 UTC (a date is its midnight)."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        raise FilterError(f"invalid date or timestamp {text!r}") from None
    if stamp is pd.NaT:
        raise FilterError(f"invalid date or timestamp {text!r}")
    stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
    return np.datetime64(stamp.to_datetime64(), "us")


def literal_time(text: str) -> pd.Timestamp:
    """Parse a DATE or TIMESTAMP literal into a UTC timestamp (a date is its midnight UTC)."""
    return pd.Timestamp(time_literal(text)).tz_localize("UTC")


def _to_time(value: Any) -> Any:
    """Convert a string scalar or string Column to time; leave other kinds alone."""
    if isinstance(value, Column) and value.kind == "string":
        parsed = pd.to_datetime(pd.Series(value.values), utc=True, errors="coerce", format="ISO8601")
        null = value.null | parsed.isna().to_numpy()
        return Column(parsed.dt.tz_localize(None).to_numpy(dtype=_TIME), null, "time")
    if isinstance(value, str):
        return time_literal(value)
    return value


def _align(a: Any, b: Any) -> tuple[Any, Any]:
    """Coerce a pair for comparison: strings meeting times become times."""
    if value_kind(a) == "time" and value_kind(b) == "string":
        b = _to_time(b)
    elif value_kind(b) == "time" and value_kind(a) == "string":
        a = _to_time(a)
    return a, b


def _tri(values: Any, null: Any, n: int) -> Truth:
    """Make a three-valued boolean array of n rows (scalars broadcast)."""
    return Truth(np.array(np.broadcast_to(values, (n,)), dtype=bool),
                 np.array(np.broadcast_to(null, (n,)), dtype=bool))


def _as_truth(value: Any, n: int) -> Truth:
    """Broadcast a scalar truth value (True/False/None) to rows."""
    if isinstance(value, Truth):
        return value
    return _tri(bool(value), value is None, n)


def _null(value: Any) -> Any:
    """Return the null mask of an operand (a bool for scalars)."""
    return value.null if isinstance(value, Column) else value is None


def _raw(value: Any) -> Any:
    """Return the values of a Column, or the scalar itself."""
    return value.values if isinstance(value, Column) else value


def _rowwise(fn: Callable, a: Any, b: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Apply fn row by row (mixed-type columns only); rows that cannot be compared are unknown."""
    left = a.values if isinstance(a, Column) else [a] * n
    right = b.values if isinstance(b, Column) else [b] * n
    out, unknown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for i, (x, y) in enumerate(zip(left, right)):
        try:
            out[i] = bool(fn(x, y))
        except (TypeError, ValueError):
            unknown[i] = True
    return out, unknown


# ---- the evaluator ------------------------------------------------------------------------

class Evaluator:
    """Evaluate one CQL2 JSON tree over the rows of a Context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.n = len(ctx.frame)
        self._columns: dict[str, Column] = ctx.columns if ctx.columns is not None else {}

    def truth(self, node: Any) -> Truth:
        """Evaluate a node that must be boolean into a three-valued array."""
        value = self.value(node)
        if isinstance(value, Column) and value.kind in ("boolean", "null"):
            return _tri(value.values.astype(bool) if value.kind == "boolean" else False, value.null, self.n)
        if isinstance(value, (Truth, bool, np.bool_)) or value is None:
            return _as_truth(value, self.n)
        raise FilterError("a filter and every operand of AND, OR and NOT must be boolean")

    def value(self, node: Any) -> Any:
        """Evaluate any node."""
        if isinstance(node, list):
            return tuple(self.value(v) for v in node)
        if not isinstance(node, dict):
            return node
        if "property" in node:
            return self.property(node["property"])
        if "op" in node:
            handler, args = operation(node, _OPS)
            return handler(self, args)
        if "date" in node or "timestamp" in node:
            return time_literal(str(node.get("date", node.get("timestamp"))))
        if "interval" in node:
            return self.interval(node["interval"])
        if "bbox" in node or "type" in node:
            return literal_geometry(node, self.ctx.filter_crs)
        raise FilterError(f"unrecognised CQL2 node with keys {sorted(node)}")

    def values(self, args: list, count: int) -> list:
        """Evaluate an operator's arguments, which must be exactly count."""
        if len(args) != count:
            raise FilterError(f"this operator takes {count} argument{'s' if count > 1 else ''}")
        return [self.value(a) for a in args]

    def property(self, name: Any) -> Column:
        """Return a property as a Column (the geometry for the spatial queryable)."""
        if not isinstance(name, str):
            raise FilterError("a property name must be a string")
        if name not in self._columns:
            if name == GEOMETRY_QUERYABLE:
                geoms = np.asarray(self.ctx.geometry, dtype=object)
                self._columns[name] = Column(geoms, shapely.is_missing(geoms), "geometry")
            elif name in self.ctx.column_types and name in self.ctx.frame.columns:
                self._columns[name] = as_column(self.ctx.frame[name])
            else:
                raise FilterError(f"unknown property {name!r}; see the collection's queryables")
        return self._columns[name]

    def interval(self, ends: Any) -> Interval:
        """Evaluate an interval: two ends, each a date, a timestamp, '..' (open) or an expression."""
        if not isinstance(ends, list) or len(ends) != 2:
            raise FilterError("an interval has exactly two ends")
        out = []
        for end, open_value in zip(ends, (_OPEN_START, _OPEN_END)):
            value = open_value if end == ".." else _to_time(self.value(end))
            if value_kind(value) != "time":
                raise FilterError("interval ends must be dates, timestamps or '..'")
            out.append(value)
        return Interval(*out)


def literal_geometry(node: dict, filter_crs: crs_module.CRSInfo) -> BaseGeometry:
    """Make a CRS84 shapely geometry from a GeoJSON or BBOX literal given in filter_crs."""
    if "bbox" in node:
        return _bbox(node["bbox"], filter_crs)
    try:
        geom = shapely.geometry.shape(node)
    except Exception as exc:
        raise FilterError(f"invalid geometry literal: {exc}") from None
    if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_valid:
        geom = shapely.make_valid(geom)
    return _in_range(crs_module.to_crs84(geom, filter_crs))


def _bbox(numbers: Any, source: crs_module.CRSInfo) -> BaseGeometry:
    """Make a CRS84 polygon from BBOX numbers (4 or 6) (split in two at the antimeridian)."""
    if not isinstance(numbers, list) or len(numbers) not in (4, 6) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        raise FilterError("BBOX takes 4 or 6 numbers")
    a, b, c, d = numbers if len(numbers) == 4 else (numbers[0], numbers[1], numbers[3], numbers[4])
    if not crs_module.crosses_antimeridian((a, b, c, d), source) and (a > c or b > d):
        raise FilterError("BBOX has a lower corner above its upper corner")
    return _in_range(crs_module.bbox_to_crs84((a, b, c, d), source))


def _in_range(geom: BaseGeometry) -> BaseGeometry:
    """Reject a literal geometry whose CRS84 coordinates are not valid longitudes/latitudes."""
    if geom.is_empty:
        return geom
    minx, miny, maxx, maxy = geom.bounds
    eps = 1e-9
    if not (np.isfinite([minx, miny, maxx, maxy]).all() and minx >= -180 - eps and maxx <= 180 + eps
            and miny >= -90 - eps and maxy <= 90 + eps):
        raise FilterError("a filter geometry has coordinates outside the valid range of its CRS "
                          "(longitude −180…180, latitude −90…90; see filter-crs)")
    return geom


# ---- logic and comparison -----------------------------------------------------------------

def _and(ev: Evaluator, args: list) -> Truth:
    """AND (Kleene)."""
    out = ev.truth(args[0]) if args else _as_truth(True, ev.n)
    for a in args[1:]:
        out = out & ev.truth(a)
    return out


def _or(ev: Evaluator, args: list) -> Truth:
    """OR (Kleene)."""
    out = ev.truth(args[0]) if args else _as_truth(False, ev.n)
    for a in args[1:]:
        out = out | ev.truth(a)
    return out


def _not(ev: Evaluator, args: list) -> Truth:
    """NOT (unknown stays unknown)."""
    if len(args) != 1:
        raise FilterError("NOT takes one argument")
    return ~ev.truth(args[0])


def _compare(fn: Callable, a: Any, b: Any, n: int) -> Any:
    """Compare two operands: a bool or None for two scalars, else a Truth array."""
    a, b = _align(a, b)
    ka, kb = value_kind(a), value_kind(b)
    if not isinstance(a, Column) and not isinstance(b, Column):
        if a is None or b is None:
            return None
        if ka != kb or ka not in _SCALAR_KINDS:
            raise FilterError(f"cannot compare a {ka} with a {kb}")
        return bool(fn(a, b))
    null = _null(a) | _null(b)
    if "null" in (ka, kb):
        return _tri(False, True, n)
    if ka == kb and ka in _SCALAR_KINDS:
        return _tri(fn(_raw(a), _raw(b)), null, n)
    if "object" in (ka, kb) or ("array" in (ka, kb) and fn in (operator.eq, operator.ne)):
        raw, unknown = _rowwise(fn, a, b, n)
        return _tri(raw, null | unknown, n)
    raise FilterError(f"cannot compare a {ka} with a {kb}")


def _comparison(fn: Callable) -> Callable[[Evaluator, list], Any]:
    """Make a binary comparison operator (= <> < > <= >=)."""
    return lambda ev, args: _compare(fn, *ev.values(args, 2), ev.n)


def _between(ev: Evaluator, args: list) -> Any:
    """BETWEEN: low <= value <= high."""
    value, low, high = ev.values(args, 3)
    ge, le = _compare(operator.ge, value, low, ev.n), _compare(operator.le, value, high, ev.n)
    if isinstance(ge, Truth) or isinstance(le, Truth):
        return _as_truth(ge, ev.n) & _as_truth(le, ev.n)
    return None if ge is None or le is None else ge and le


def _in(ev: Evaluator, args: list) -> Any:
    """IN: equal to any item of a list (unknown when the value is null)."""
    value, items = ev.values(args, 2)
    if not isinstance(items, tuple) or not items:
        raise FilterError("IN needs a non-empty list")
    if isinstance(value, Column) and value.kind in _SCALAR_KINDS:
        aligned = [_align(value, item)[1] for item in items]
        if all(value_kind(i) == value.kind for i in aligned):  # the common case: one vectorised isin
            options = np.asarray(aligned).astype(_TIME) if value.kind == "time" else np.asarray(aligned)
            return _tri(np.isin(value.values, options), value.null, ev.n)
    out: Any = False
    for item in items:
        hit = _compare(operator.eq, value, item, ev.n)
        if isinstance(out, Truth) or isinstance(hit, Truth):
            out = _as_truth(out, ev.n) | _as_truth(hit, ev.n)
        else:
            out = True if True in (out, hit) else None if None in (out, hit) else False
    return out


def _is_null(ev: Evaluator, args: list) -> Any:
    """IS NULL."""
    (value,) = ev.values(args, 1)
    if isinstance(value, Column):
        return _tri(value.null, False, ev.n)
    if isinstance(value, Truth):
        return _tri(np.asarray(value.isna()), False, ev.n)
    return value is None


def _like(ev: Evaluator, args: list) -> Any:
    """LIKE with % and _ wildcards and backslash escapes."""
    value, pattern = ev.values(args, 2)
    if not isinstance(pattern, str):
        raise FilterError("LIKE needs a string pattern")
    regex = _like_regex(pattern)
    if isinstance(value, Column):
        if value.kind not in ("string", "object", "null"):
            raise FilterError(f"LIKE applies to strings, not to a {value.kind}")
        text = pd.Series(value.values, dtype=object)
        hits = text.str.fullmatch(regex, na=False).to_numpy(dtype=bool)
        return _tri(hits, value.null, ev.n)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FilterError("LIKE applies to strings")
    return regex.fullmatch(value) is not None


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


def _fold(scalar: Callable[[str], str], column: Callable[[pd.Series], pd.Series]) -> Callable:
    """Make CASEI/ACCENTI: fold strings (columns or literals)."""

    def handler(ev: Evaluator, args: list) -> Any:
        (value,) = ev.values(args, 1)
        if isinstance(value, Column) and value.kind == "string":
            folded = column(pd.Series(value.values, dtype=object))
            return Column(folded.to_numpy(dtype=str), value.null, "string")
        if value is None or isinstance(value, str):
            return None if value is None else scalar(value)
        raise FilterError("CASEI and ACCENTI apply to strings")

    return handler


def _strip_accents(text: str) -> str:
    """Remove diacritics (combining marks, and the letters NFD cannot split)."""
    bare = COMBINING_MARKS.sub("", unicodedata.normalize("NFD", text)).translate(UNDECOMPOSED_LETTERS)
    return unicodedata.normalize("NFC", bare)


def _strip_accents_column(text: pd.Series) -> pd.Series:
    """Remove diacritics from a column of strings."""
    bare = text.str.normalize("NFD").str.replace(COMBINING_MARKS, "", regex=True).str.translate(UNDECOMPOSED_LETTERS)
    return bare.str.normalize("NFC")


def _arithmetic(fn: Callable) -> Callable:
    """Make an arithmetic operator over numbers (a non-finite result is null)."""

    def handler(ev: Evaluator, args: list) -> Any:
        a, b = ev.values(args, 2)
        if value_kind(a) not in ("number", "null") or value_kind(b) not in ("number", "null"):
            raise FilterError("arithmetic takes numbers")
        with np.errstate(all="ignore"):
            if not isinstance(a, Column) and not isinstance(b, Column):
                result = None if a is None or b is None else float(fn(np.float64(a), np.float64(b)))
                return result if result is not None and np.isfinite(result) else None
            left, right = np.asarray(_raw(a), dtype=float), np.asarray(_raw(b), dtype=float)
            result = np.broadcast_to(fn(left, right), (ev.n,))
        null = np.broadcast_to(_null(a) | _null(b), (ev.n,)) | ~np.isfinite(result)
        return Column(np.where(null, np.nan, result), null, "number")

    return handler


def _trunc_div(a: Any, b: Any) -> Any:
    """Integer division, truncating toward zero."""
    return np.trunc(np.true_divide(a, b))


# ---- spatial, temporal, arrays ------------------------------------------------------------

def _spatial(fn: Callable, converse: Callable | None) -> Callable:
    """Make a spatial predicate; with a literal operand, the literal is prepared and put first."""

    def handler(ev: Evaluator, args: list) -> Any:
        a, b = ev.values(args, 2)
        if value_kind(a) not in ("geometry", "null") or value_kind(b) not in ("geometry", "null"):
            raise FilterError("spatial functions take geometries (the queryable geom or a literal)")
        if not isinstance(a, Column) and not isinstance(b, Column):
            return None if a is None or b is None else bool(fn(a, b))
        if isinstance(a, Column) and isinstance(b, BaseGeometry) and converse is not None:
            predicate, first, second = converse, b, a
        else:
            predicate, first, second = fn, a, b
        if isinstance(first, BaseGeometry):
            shapely.prepare(first)
        return _tri(predicate(_raw(first), _raw(second)), _null(a) | _null(b), ev.n)

    return handler


def _temporal(rule: Callable) -> Callable:
    """Make a temporal predicate: an instant is an interval whose start equals its end."""

    def handler(ev: Evaluator, args: list) -> Any:
        ends = [end for value in ev.values(args, 2) for end in _bounds(value)]
        raw = rule(*(_raw(v) for v in ends))
        columns = [v for v in ends if isinstance(v, Column)]
        if not columns:
            return bool(raw)
        return _tri(raw, np.logical_or.reduce([c.null for c in columns]), ev.n)

    return handler


def _bounds(value: Any) -> tuple[Any, Any]:
    """Return (start, end) of an instant or interval."""
    if isinstance(value, Interval):
        return value.start, value.end
    value = _to_time(value)
    if value_kind(value) != "time":
        raise FilterError("temporal functions take dates, timestamps or intervals")
    return value, value


def _array(rule: str) -> Callable:
    """Make an array predicate (a_equals, a_contains, a_containedby, a_overlaps)."""

    def handler(ev: Evaluator, args: list) -> Any:
        a, b = ev.values(args, 2)
        if isinstance(a, tuple) and isinstance(b, tuple):
            return _ARRAY_RULES[rule](as_set(a), as_set(b))
        if isinstance(a, Column) and isinstance(b, tuple):
            return _array_vs_literal(rule, a, as_set(b), ev.n)
        if isinstance(b, Column) and isinstance(a, tuple):
            return _array_vs_literal(_ARRAY_CONVERSE[rule], b, as_set(a), ev.n)
        if isinstance(a, Column) and isinstance(b, Column) and {a.kind, b.kind} <= {"array", "null"}:
            test = _ARRAY_RULES[rule]
            raw, unknown = _rowwise(lambda x, y: test(set(x), set(y)), a, b, ev.n)
            return _tri(raw, a.null | b.null | unknown, ev.n)
        raise FilterError("array functions take arrays")

    return handler


def as_set(items: tuple) -> set:
    """Return the plain values of an array literal as a set."""
    if any(isinstance(i, (Column, Truth, tuple, Interval)) for i in items):
        raise FilterError("array literals must hold plain values")
    try:
        return set(items)
    except TypeError:
        raise FilterError("array literals must hold plain values") from None


def _array_vs_literal(rule: str, column: Column, wanted: set, n: int) -> Truth:
    """Compare an array column with a literal array: explode once, then count per row."""
    if column.kind not in ("array", "null"):
        raise FilterError(f"array functions take arrays, not a {column.kind}")
    cells = pd.Series(column.values, dtype=object).map(
        lambda v: list(v) if isinstance(v, (list, tuple, np.ndarray)) else [])
    exploded = cells.explode()
    present = exploded.notna()
    member = exploded.isin(list(wanted)) & present
    rows = pd.DataFrame({"present": present, "member": member, "hit": exploded.where(member)})
    grouped = rows.groupby(level=0, sort=True)
    n_items, n_members = grouped["present"].sum().to_numpy(), grouped["member"].sum().to_numpy()
    n_distinct = grouped["hit"].nunique().to_numpy()
    result = {
        "a_overlaps": n_members > 0,
        "a_contains": n_distinct == len(wanted),
        "a_containedby": n_members == n_items,
        "a_equals": (n_members == n_items) & (n_distinct == len(wanted)),
    }[rule]
    return _tri(result, column.null, n)


_ARRAY_RULES: dict[str, Callable[[set, set], bool]] = {
    "a_equals": lambda x, y: x == y, "a_contains": lambda x, y: x >= y,
    "a_containedby": lambda x, y: x <= y, "a_overlaps": lambda x, y: bool(x & y),
}
_ARRAY_CONVERSE = {"a_equals": "a_equals", "a_contains": "a_containedby",
                   "a_containedby": "a_contains", "a_overlaps": "a_overlaps"}

# Allen's interval relations over (start1, end1, start2, end2), as OGC 21-065 defines them.
_TEMPORAL: dict[str, Callable] = {
    "t_after": lambda s1, e1, s2, e2: s1 > e2,
    "t_before": lambda s1, e1, s2, e2: e1 < s2,
    "t_contains": lambda s1, e1, s2, e2: (s1 < s2) & (e1 > e2),
    "t_disjoint": lambda s1, e1, s2, e2: (e1 < s2) | (s1 > e2),
    "t_during": lambda s1, e1, s2, e2: (s1 > s2) & (e1 < e2),
    "t_equals": lambda s1, e1, s2, e2: (s1 == s2) & (e1 == e2),
    "t_finishedby": lambda s1, e1, s2, e2: (s1 < s2) & (e1 == e2),
    "t_finishes": lambda s1, e1, s2, e2: (s1 > s2) & (e1 == e2),
    "t_intersects": lambda s1, e1, s2, e2: (s1 <= e2) & (e1 >= s2),
    "t_meets": lambda s1, e1, s2, e2: e1 == s2,
    "t_metby": lambda s1, e1, s2, e2: s1 == e2,
    "t_overlappedby": lambda s1, e1, s2, e2: (s1 > s2) & (s1 < e2) & (e1 > e2),
    "t_overlaps": lambda s1, e1, s2, e2: (s1 < s2) & (e1 > s2) & (e1 < e2),
    "t_startedby": lambda s1, e1, s2, e2: (s1 == s2) & (e1 > e2),
    "t_starts": lambda s1, e1, s2, e2: (s1 == s2) & (e1 < e2),
}

# name: (predicate, the predicate with its operands swapped, where shapely has one)
_SPATIAL: dict[str, tuple[Callable, Callable | None]] = {
    "s_intersects": (shapely.intersects, shapely.intersects),
    "s_disjoint": (shapely.disjoint, shapely.disjoint),
    "s_equals": (shapely.equals, shapely.equals),
    "s_touches": (shapely.touches, shapely.touches),
    "s_within": (shapely.within, shapely.contains),
    "s_contains": (shapely.contains, shapely.within),
    "s_overlaps": (shapely.overlaps, None),
    "s_crosses": (shapely.crosses, None),
}

_OPS: dict[str, Callable[[Evaluator, list], Any]] = {
    "and": _and, "or": _or, "not": _not,
    "=": _comparison(operator.eq), "<>": _comparison(operator.ne), "<": _comparison(operator.lt),
    ">": _comparison(operator.gt), "<=": _comparison(operator.le), ">=": _comparison(operator.ge),
    "between": _between, "in": _in, "isnull": _is_null, "like": _like,
    "casei": _fold(str.casefold, lambda s: s.str.casefold()),
    "accenti": _fold(_strip_accents, _strip_accents_column),
    "+": _arithmetic(np.add), "-": _arithmetic(np.subtract), "*": _arithmetic(np.multiply),
    "/": _arithmetic(np.true_divide), "%": _arithmetic(np.fmod), "div": _arithmetic(_trunc_div),
    "^": _arithmetic(np.power),
    **{name: _spatial(*fns) for name, fns in _SPATIAL.items()},
    **{name: _temporal(rule) for name, rule in _TEMPORAL.items()},
    **{name: _array(name) for name in _ARRAY_RULES},
}
