"""CQL2 JSON trees → parameterised PostgreSQL/PostGIS, with the memory store's semantics.

Every literal becomes a named placeholder with an explicit cast; identifiers come only from the
collection's known columns (quoted by psycopg). Nothing a user sends is spliced into SQL text.
Sub-trees without a property are evaluated by the memory store's own evaluator (geoservice.filters),
so literals (dates, geometries in filter-crs, folded strings, constant arithmetic) mean exactly the
same on both stores; the rest follows its typing rules (kinds: number, string, boolean, time,
geometry, array, object, null) and raises the same FilterErrors. Three-valued logic is SQL's own.
Known differences: CASEI folds with lower() (casefold in memory; they differ for a few letters such
as German ß); an ordering comparison (<, >) involving an object column is unknown on every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from geoservice import crs as crs_module
from geoservice import filters
from geoservice.filters import GEOMETRY_QUERYABLE, FilterError
from geoservice.store.pgschema import GEOMETRY, SCHEMA

SCALAR_KINDS = ("number", "string", "boolean", "time")
_COMPARE = ("=", "<>", "<", ">", "<=", ">=")
_SPATIAL = {"s_intersects": "ST_Intersects", "s_equals": "ST_Equals", "s_disjoint": "ST_Disjoint",
            "s_touches": "ST_Touches", "s_within": "ST_Within", "s_overlaps": "ST_Overlaps",
            "s_crosses": "ST_Crosses", "s_contains": "ST_Contains"}
_UNDECOMPOSED_FROM = "".join(chr(k) for k in filters.UNDECOMPOSED_LETTERS)
_UNDECOMPOSED_TO = "".join(filters.UNDECOMPOSED_LETTERS.values())
NULL_BOOL = sql.SQL("NULL::boolean")


@dataclass(frozen=True)
class Expr:
    """A translated operand: SQL and the kind of value it yields (filters' kinds)."""

    sql: sql.Composable
    kind: str
    const: Any = None
    is_const: bool = False
    columns: tuple[sql.Composable, ...] = ()  # column expressions it depends on (for null tests)


@dataclass
class Params:
    """Named parameters collected while translating."""

    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any, cast: str | None = None) -> sql.Composable:
        """Return a placeholder for value (with a cast)."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        holder = sql.Placeholder(name)
        return sql.SQL("({}::{})").format(holder, sql.SQL(cast)) if cast else holder


def _utc(value: np.datetime64) -> Any:
    """Return a datetime64 (UTC, naive) as an aware Python datetime."""
    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


@dataclass
class Translator:
    """Translate one filter for one table."""

    kinds: Mapping[str, str]  # column → filters' kind, as the memory store infers it
    storage: Mapping[str, str]  # column → pgschema storage kind (text, number, integer, boolean, jsonb)
    filter_crs: crs_module.CRSInfo
    params: Params = field(default_factory=Params)

    def where(self, tree: Any) -> sql.Composable:
        """Return a boolean SQL condition for a CQL2 JSON tree."""
        if filters.count_vertices(tree) > filters.MAX_FILTER_VERTICES:
            raise FilterError(f"filter geometries have more than {filters.MAX_FILTER_VERTICES} vertices")
        return self.truth(tree)

    def truth(self, node: Any) -> sql.Composable:
        """Translate a node that must be boolean."""
        e = self.node(node)
        if e.kind == "boolean":
            return e.sql
        if e.kind == "null":
            return NULL_BOOL
        raise FilterError("a filter and every operand of AND, OR and NOT must be boolean")

    def node(self, node: Any) -> Expr:
        """Translate any node; constant sub-trees are evaluated as the memory store does."""
        if not filters.properties_used(node) and not (isinstance(node, dict) and "property" in node):
            return self.constant(self._evaluate(node))
        if isinstance(node, dict) and "property" in node:
            return self.column(node["property"])
        if isinstance(node, dict) and "op" in node:
            handler, args = filters.operation(node, _OPS)
            return handler(self, args)
        if isinstance(node, dict) and "interval" in node:
            raise FilterError("an interval is only an operand of temporal functions")
        raise FilterError("unsupported operand")

    def _evaluate(self, node: Any) -> Any:
        """Evaluate a constant node with the memory store's evaluator."""
        ctx = filters.Context(pd.DataFrame(), np.array([], dtype=object), self.filter_crs, {})
        return filters.Evaluator(ctx).value(node)

    def constant(self, value: Any) -> Expr:
        """Make a placeholder for an evaluated constant."""
        kind = filters.value_kind(value)
        if value is None:
            return Expr(sql.SQL("NULL"), "null", None, True)
        if kind == "boolean":
            return Expr(self.params.add(bool(value), "boolean"), kind, bool(value), True)
        if kind == "number":
            return Expr(self.params.add(float(value), "double precision"), kind, value, True)
        if kind == "string":
            return Expr(self.params.add(value, "text"), kind, value, True)
        if kind == "time":
            return Expr(self.params.add(_utc(value), "timestamptz"), kind, value, True)
        if kind == "geometry":
            holder = self.params.add(shapely.to_wkb(value), "bytea")
            return Expr(sql.SQL("ST_GeomFromWKB({}, 4326)").format(holder), kind, value, True)
        return Expr(sql.SQL("NULL"), kind, value, True)  # arrays, intervals: used by their operators

    def column(self, name: Any) -> Expr:
        """Translate a property reference."""
        if not isinstance(name, str):
            raise FilterError("a property name must be a string")
        if name == GEOMETRY_QUERYABLE:
            ident = sql.Identifier(GEOMETRY)
            return Expr(ident, "geometry", columns=(ident,))
        if name not in self.kinds:
            raise FilterError(f"unknown property {name!r}; see the collection's queryables")
        ident = sql.Identifier(name)
        kind = self.kinds[name]
        if kind == "time" and self.storage.get(name) == "text":
            return Expr(_try_time(ident), "time", columns=(ident,))
        if kind == "object" and self.storage.get(name) != "jsonb":
            kind = "string"
        return Expr(ident, kind, columns=(ident,))


def _try_time(value: sql.Composable) -> sql.Composable:
    """Parse text as timestamptz; text that is no time becomes null (as pandas' errors='coerce')."""
    return sql.SQL("{}.try_timestamptz({})").format(sql.Identifier(SCHEMA), value)


def _null_unless(columns: tuple, result: bool) -> Expr:
    """A constant truth value that is unknown where any of the columns is null."""
    value = sql.SQL("TRUE" if result else "FALSE")
    if not columns:
        return Expr(value, "boolean")
    test = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(c) for c in columns)
    return Expr(sql.SQL("(CASE WHEN {} THEN NULL ELSE {} END)").format(test, value), "boolean")


def _boolean(text: str, *parts: sql.Composable, columns: tuple = ()) -> Expr:
    """Make a boolean expression."""
    return Expr(sql.SQL(text).format(*parts), "boolean", columns=columns)


# ---- comparison ---------------------------------------------------------------------------

def _align(t: Translator, a: Expr, b: Expr) -> tuple[Expr, Expr]:
    """Strings meeting times become times (columns parsed, literals checked)."""
    def to_time(e: Expr) -> Expr:
        if e.is_const:
            return t.constant(filters.time_literal(e.const))
        return Expr(_try_time(e.sql), "time", columns=e.columns)

    if a.kind == "time" and b.kind == "string":
        b = to_time(b)
    elif b.kind == "time" and a.kind == "string":
        a = to_time(a)
    return a, b


def _as_jsonb(t: Translator, e: Expr) -> sql.Composable:
    """Return an operand as jsonb (for comparisons involving lists and objects)."""
    if e.kind in ("array", "object") and not e.is_const:
        return e.sql
    return sql.SQL("to_jsonb({})").format(e.sql)


def compare(t: Translator, op: str, a: Expr, b: Expr) -> Expr:
    """Compare two operands, one of them at least a column, as filters._compare does."""
    a, b = _align(t, a, b)
    ka, kb = a.kind, b.kind
    columns = a.columns + b.columns
    if "null" in (ka, kb):
        return Expr(NULL_BOOL, "boolean")
    if ka == kb and ka in SCALAR_KINDS:
        left = sql.SQL('({} COLLATE "C")').format(a.sql) if ka == "string" and op not in ("=", "<>") else a.sql
        return _boolean("({} %s {})" % op, left, b.sql, columns=columns)
    if "object" in (ka, kb) or ("array" in (ka, kb) and op in ("=", "<>")):
        if op not in ("=", "<>"):
            return Expr(NULL_BOOL, "boolean")
        if (a.is_const and ka == "array") or (b.is_const and kb == "array") or {ka, kb} & {"time", "geometry"}:
            return _null_unless(columns, op == "<>")  # a Python list never equals a tuple literal
        return _boolean("({} %s {})" % op, _as_jsonb(t, a), _as_jsonb(t, b), columns=columns)
    raise FilterError(f"cannot compare a {ka} with a {kb}")


def _comparison(op: str) -> Callable:
    def handler(t: Translator, args: list) -> Expr:
        a, b = _args(t, args, 2)
        return compare(t, op, a, b)

    return handler


def _args(t: Translator, args: list, count: int) -> list[Expr]:
    """Translate exactly count arguments."""
    if len(args) != count:
        raise FilterError(f"this operator takes {count} argument{'s' if count > 1 else ''}")
    return [t.node(a) for a in args]


def _logic(joiner: str) -> Callable:
    def handler(t: Translator, args: list) -> Expr:
        if not args:
            return Expr(sql.SQL("TRUE" if joiner == "AND" else "FALSE"), "boolean")
        return Expr(sql.SQL("(") + sql.SQL(f" {joiner} ").join(t.truth(a) for a in args) + sql.SQL(")"), "boolean")

    return handler


def _not(t: Translator, args: list) -> Expr:
    if len(args) != 1:
        raise FilterError("NOT takes one argument")
    return _boolean("(NOT {})", t.truth(args[0]))


def _between(t: Translator, args: list) -> Expr:
    value, low, high = _args(t, args, 3)
    return _boolean("({} AND {})", compare(t, ">=", value, low).sql, compare(t, "<=", value, high).sql)


def _in(t: Translator, args: list) -> Expr:
    if len(args) != 2:
        raise FilterError("this operator takes 2 arguments")
    value = t.node(args[0])
    if not isinstance(args[1], list) or not args[1]:
        raise FilterError("IN needs a non-empty list")
    items = [t.node(i) for i in args[1]]
    if value.kind in SCALAR_KINDS and all(i.is_const for i in items):
        aligned = [_align(t, value, i)[1] for i in items]
        if all(i.kind == value.kind for i in aligned):  # the common case: one = ANY(array)
            cast = {"number": "double precision[]", "string": "text[]", "boolean": "boolean[]",
                    "time": "timestamptz[]"}[value.kind]
            consts = [_utc(i.const) if value.kind == "time" else i.const for i in aligned]
            return _boolean("({} = ANY({}))", value.sql, t.params.add(consts, cast))
    hits = [compare(t, "=", value, i).sql for i in items]
    return Expr(sql.SQL("(") + sql.SQL(" OR ").join(hits) + sql.SQL(")"), "boolean")


def _is_null(t: Translator, args: list) -> Expr:
    (value,) = _args(t, args, 1)
    return _boolean("({} IS NULL)", value.sql)


def like_pattern(pattern: str) -> str:
    """Translate a CQL2 LIKE pattern to PostgreSQL's (escape `\\`), as filters._like_regex reads it."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "%_\\" else nxt)
            i += 2
            continue
        out.append("\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)


def _like(t: Translator, args: list) -> Expr:
    value, pattern = _args(t, args, 2)
    if not (pattern.is_const and isinstance(pattern.const, str)):
        raise FilterError("LIKE needs a string pattern")
    holder = t.params.add(like_pattern(pattern.const), "text")
    if value.kind == "null":
        return Expr(NULL_BOOL, "boolean")
    if value.kind == "string":
        return _boolean("({} LIKE {})", value.sql, holder)
    if value.kind == "object":
        return _boolean("(CASE WHEN {} IS NULL THEN NULL ELSE coalesce(jsonb_typeof({}) = 'string' "
                        "AND ({} #>> '{{}}') LIKE {}, false) END)", value.sql, value.sql, value.sql, holder)
    raise FilterError(f"LIKE applies to strings, not to a {value.kind}")


def _fold(pg: Callable[[sql.Composable], sql.Composable]) -> Callable:
    """Make CASEI/ACCENTI over a string column (constants were folded by the evaluator)."""

    def handler(t: Translator, args: list) -> Expr:
        (value,) = _args(t, args, 1)
        if value.kind != "string":
            raise FilterError("CASEI and ACCENTI apply to strings")
        return Expr(pg(value.sql), "string", columns=value.columns)

    return handler


def _strip_accents(value: sql.Composable) -> sql.Composable:
    """NFD, drop combining marks, map the letters NFD cannot split, NFC (as filters._strip_accents)."""
    return sql.SQL("normalize(translate(regexp_replace(normalize({}, NFD), {}, '', 'g'), {}, {}), NFC)").format(
        value, sql.Literal(filters.COMBINING_MARKS.pattern), sql.Literal(_UNDECOMPOSED_FROM), sql.Literal(_UNDECOMPOSED_TO))


# ---- arithmetic (a non-finite result is null) ----------------------------------------------

_ARITH = {
    "+": "({a} + {b})", "-": "({a} - {b})", "*": "({a} * {b})",
    "/": "({a} / NULLIF({b}, 0))",
    "%": "({a} - {b} * trunc({a} / NULLIF({b}, 0)))",  # fmod: the sign of the dividend
    "div": "trunc({a} / NULLIF({b}, 0))",
    "^": "(CASE WHEN ({a} < 0 AND {b} <> trunc({b})) OR ({a} = 0 AND {b} < 0) THEN NULL ELSE power({a}, {b}) END)",
}


def _arith(op: str) -> Callable:
    def handler(t: Translator, args: list) -> Expr:
        a, b = _args(t, args, 2)
        if a.kind not in ("number", "null") or b.kind not in ("number", "null"):
            raise FilterError("arithmetic takes numbers")
        operands = [e.sql if e.kind == "number" else sql.SQL("NULL::double precision") for e in (a, b)]
        return Expr(sql.SQL(_ARITH[op]).format(a=operands[0], b=operands[1]), "number", columns=a.columns + b.columns)

    return handler


# ---- spatial ------------------------------------------------------------------------------

def _spatial(function: str) -> Callable:
    def handler(t: Translator, args: list) -> Expr:
        a, b = _args(t, args, 2)
        if a.kind not in ("geometry", "null") or b.kind not in ("geometry", "null"):
            raise FilterError("spatial functions take geometries (the queryable geom or a literal)")
        if "null" in (a.kind, b.kind):
            return Expr(NULL_BOOL, "boolean")
        return _boolean("%s({}, {})" % function, a.sql, b.sql)

    return handler


# ---- temporal -----------------------------------------------------------------------------

def _bounds(t: Translator, node: Any) -> tuple[Expr, Expr]:
    """Return the (start, end) of an instant or an interval; open ends are ∓infinity."""
    if isinstance(node, dict) and "interval" in node:
        ends = node["interval"]
        if not isinstance(ends, list) or len(ends) != 2:
            raise FilterError("an interval has exactly two ends")
        out = []
        for end, infinity in zip(ends, ("-infinity", "infinity")):
            if end == "..":
                out.append(Expr(sql.SQL(f"'{infinity}'::timestamptz"), "time", None, True))
                continue
            e, _ = _align(t, t.node(end), Expr(sql.SQL(""), "time"))
            if e.kind != "time":
                raise FilterError("interval ends must be dates, timestamps or '..'")
            out.append(e)
        return out[0], out[1]
    e, _ = _align(t, t.node(node), Expr(sql.SQL(""), "time"))
    if e.kind != "time":
        raise FilterError("temporal functions take dates, timestamps or intervals")
    return e, e


_TEMPORAL = {
    "t_after": "({s1} > {e2})", "t_before": "({e1} < {s2})",
    "t_contains": "({s1} < {s2} AND {e1} > {e2})", "t_disjoint": "({e1} < {s2} OR {s1} > {e2})",
    "t_during": "({s1} > {s2} AND {e1} < {e2})", "t_equals": "({s1} = {s2} AND {e1} = {e2})",
    "t_finishedby": "({s1} < {s2} AND {e1} = {e2})", "t_finishes": "({s1} > {s2} AND {e1} = {e2})",
    "t_intersects": "({s1} <= {e2} AND {e1} >= {s2})", "t_meets": "({e1} = {s2})", "t_metby": "({s1} = {e2})",
    "t_overlappedby": "({s1} > {s2} AND {s1} < {e2} AND {e1} > {e2})",
    "t_overlaps": "({s1} < {s2} AND {e1} > {s2} AND {e1} < {e2})",
    "t_startedby": "({s1} = {s2} AND {e1} > {e2})", "t_starts": "({s1} = {s2} AND {e1} < {e2})",
}


def _temporal(op: str) -> Callable:
    def handler(t: Translator, args: list) -> Expr:
        if len(args) != 2:
            raise FilterError("this operator takes 2 arguments")
        (s1, e1), (s2, e2) = _bounds(t, args[0]), _bounds(t, args[1])
        rule = sql.SQL(_TEMPORAL[op]).format(s1=s1.sql, e1=e1.sql, s2=s2.sql, e2=e2.sql)
        nullable = [e.sql for e in (s1, e1, s2, e2) if not e.is_const]
        if not nullable:
            return Expr(rule, "boolean")
        test = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(v) for v in nullable)
        return _boolean("(CASE WHEN {} THEN NULL ELSE {} END)", test, rule)

    return handler


# ---- arrays -------------------------------------------------------------------------------

def _array_operand(t: Translator, e: Expr) -> sql.Composable:
    """Return an array operand as a jsonb array (a literal's plain values; a column as stored)."""
    if e.is_const:
        if not isinstance(e.const, tuple):
            raise FilterError("array functions take arrays")
        values = filters.as_set(e.const)
        return t.params.add(Jsonb([v.item() if isinstance(v, np.generic) else v for v in values]), "jsonb")
    if e.kind == "null":
        return sql.SQL("NULL::jsonb")
    if e.kind != "array":
        raise FilterError(f"array functions take arrays, not a {e.kind}")
    return sql.SQL("{}.as_array({})").format(sql.Identifier(SCHEMA), e.sql)


_ARRAYS = {
    "a_equals": "({x} @> {y} AND {y} @> {x})",
    "a_contains": "({x} @> {y})",
    "a_containedby": "({y} @> {x})",
    "a_overlaps": "(CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL ELSE EXISTS "
                  "(SELECT 1 FROM jsonb_array_elements({x}) l JOIN jsonb_array_elements({y}) r ON l.value = r.value) END)",
}


def _arrays(op: str) -> Callable:
    def handler(t: Translator, args: list) -> Expr:
        a, b = _args(t, args, 2)
        x, y = _array_operand(t, a), _array_operand(t, b)
        return Expr(sql.SQL(_ARRAYS[op]).format(x=x, y=y), "boolean")

    return handler


_OPS: dict[str, Callable[[Translator, list], Expr]] = {
    "and": _logic("AND"), "or": _logic("OR"), "not": _not,
    **{op: _comparison(op) for op in _COMPARE},
    "between": _between, "in": _in, "isnull": _is_null, "like": _like,
    "casei": _fold(lambda v: sql.SQL("lower({})").format(v)),
    "accenti": _fold(_strip_accents),
    **{op: _arith(op) for op in _ARITH},
    **{op: _spatial(fn) for op, fn in _SPATIAL.items()},
    **{op: _temporal(op) for op in _TEMPORAL},
    **{op: _arrays(op) for op in _ARRAYS},
}


def translate(tree: Any, kinds: Mapping[str, str], storage: Mapping[str, str],
              filter_crs: crs_module.CRSInfo, params: Params | None = None) -> tuple[sql.Composable, Params]:
    """Return (condition, parameters) for a CQL2 JSON filter over a table with these columns."""
    t = Translator(kinds, storage, filter_crs, params or Params())
    if isinstance(tree, bool):
        return sql.SQL("TRUE" if tree else "FALSE"), t.params
    return t.where(tree), t.params
