"""Fidelity checks: the structured fields of features and targets say what their quotes say.

A verbatim quote proves nothing about the fields beside it; these checks tie each field to its
text: numbers appear in the quote, sectors are named there (or inherited from a named zone),
firms and institutions are named, the kind agrees with the text's own kind word, and an entity
in two plans is one linked group at one position (or data/links.yaml states the difference).
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

from pyproj import Geod

from geoservice.catalog import Catalog
from geoservice.layers import entity_groups
from geoservice.plans import POINT_PRECISIONS, Feature, Source, Target, clean_text
from geoservice.problems import Problem
from geoservice.vocab import Vocabulary
from geoservice.yamlfile import read_yaml

# Two points of one entity may differ by this much without a stated reason (rounding).
SAME_POSITION_M = 100.0
# Place prefixes dropped before comparing names across plans (烟台毓璜顶医院 = 毓璜顶医院).
_PLACE_PREFIXES = ("中国", "山东省", "山东", "烟台市", "烟台", "四川省", "四川")
# Kinds that are areas of a plan's own layout, not entities another plan might name.
_LAYOUT_KINDS = ("region", "zone", "belt", "pole", "chain", "chain_link")
_CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9)))
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 1e4, "亿": 1e8}
# Words that state a number: 全覆盖 (full coverage) is 100 %; 零突破, 首条, 首家 are 1.
_WORDS_AS_NUMBERS = {"全覆盖": 100.0, "零突破": 1.0, "首条": 1.0, "首家": 1.0}
# An area in km² as the text may give it: km², 公顷 (hectares), 亩 (mu).
_KM2_IN = (1.0, 100.0, 1500.0)

Features = dict[str, tuple[str, Feature]]  # feature id → (plan id, feature)


def _file(plan_id: str) -> str:
    return f"data/plans/{plan_id}.yaml"


def fold(text: str) -> str:
    """Fold text for matching: seed artefacts cleaned, NFKC (full-width → ASCII), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean_text(text)))


def _features(catalog: Catalog) -> Features:
    return {f.id: (plan_id, f) for plan_id, plan in catalog.plans.items() for f in plan.features}


def check_fidelity(catalog: Catalog, data_dir: Path) -> list[Problem]:
    """Run every fidelity check on the catalog built from data_dir."""
    kind_words = read_yaml(data_dir / "vocab" / "kinds.yaml").get("kind_words") or {}
    links = data_dir / "links.yaml"
    links_doc = read_yaml(links) if links.exists() else {}
    features = _features(catalog)
    return (check_numbers(catalog) + check_sector_basis(features, catalog.sectors)
            + check_listed_names(features) + check_kinds(features, kind_words)
            + check_shared_entities(catalog, features, links_doc))


# --- numbers ---------------------------------------------------------------------------------

def _chinese_number(run: str) -> float | None:
    """Value of a run of Chinese numerals (十五 → 15, 三千 → 3000, 千亿 → 1e11)."""
    total, section, digit = 0.0, 0.0, None
    for ch in run:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in ("万", "亿"):  # 过亿元: a bare 亿 is one 亿
            total += ((section + (digit or 0)) or 1) * _CN_UNITS[ch]
            section, digit = 0.0, None
        else:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + section + (digit or 0) or None


def quoted_numbers(quote: str) -> set[float]:
    """Every number a quote states, in digits (full-width too) or Chinese numerals (千亿 → 1e11)."""
    text = fold(quote).replace(",", "")
    found = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)}
    found |= {v for run in re.findall(r"[零〇一二两三四五六七八九十百千万亿]+", text)
              if (v := _chinese_number(run))}
    return found | {v for word, v in _WORDS_AS_NUMBERS.items() if word in text}


def _stated(value: float, numbers: set[float]) -> bool:
    """Whether a value is one of the quote's numbers, up to 10⁴ steps (5000 万元 = 0.5 亿元)."""
    return any(math.isclose(value * 10 ** (4 * k), n, rel_tol=1e-9)
               for n in numbers for k in range(-2, 3))


def _target_problems(file: str, feature: str, field: str, target: Target,
                     fallback: Source | None) -> list[Problem]:
    """A target's value and year appear in its own quote, else in its feature's."""
    source = target.source or fallback
    if source is None:
        return [Problem(file, "a target needs a source quote", feature, field)]
    problems = []
    if not _stated(target.value, quoted_numbers(source.quote)):
        problems.append(Problem(file, f"value {target.value:g} not stated in its quote",
                                feature, f"{field}.value"))
    if target.year is not None and str(target.year) not in fold(source.quote):
        problems.append(Problem(file, f"year {target.year} not stated in its quote",
                                feature, f"{field}.year"))
    return problems


def check_numbers(catalog: Catalog) -> list[Problem]:
    """Areas, target values and years appear in the quote cited for them."""
    problems: list[Problem] = []
    for plan_id, plan in catalog.plans.items():
        file = _file(plan_id)
        for i, t in enumerate(plan.targets):
            problems += _target_problems(file, "", f"targets[{i}]", t, None)
        for f in plan.features:
            area, numbers = f.planned_area_km2, quoted_numbers(f.source.quote)
            if area is not None and not any(_stated(area * k, numbers) for k in _KM2_IN):
                problems.append(Problem(file, f"planned area {area:g} not stated in its quote",
                                        f.id, "planned_area_km2"))
            if f.planned_area_zh and fold(f.planned_area_zh) not in fold(f.source.quote):
                problems.append(Problem(file, f"{f.planned_area_zh!r} not in its quote",
                                        f.id, "planned_area_zh"))
            for i, t in enumerate(f.targets):
                problems += _target_problems(file, f.id, f"targets[{i}]", t, f.source)
    return problems


# --- sectors, firms, institutions ------------------------------------------------------------

def sectors_named(quote: str, vocab: Vocabulary) -> set[str]:
    """The sector codes a quote names by a name or synonym.

    A one-character name (医, 康, 养 …) counts only set off in quotation marks (“医”), as the
    health plan writes its eight domains; bare, it would match almost any sentence.
    """
    text = fold(quote).casefold()
    named = set()
    for term in vocab.terms.values():
        labels = [fold(label).casefold() for label in (term.name_zh, term.name_en, *term.synonyms)]
        if any((label if len(label) > 1 else f"“{label}”") in text for label in labels):
            named.add(term.code)
    return named


def _basis_problems(f: Feature, features: Features) -> list[str]:
    """What is wrong with a feature's stated sector inheritance (empty: nothing)."""
    basis = f.sector_basis
    parent = features.get(basis.inherited_from)
    if parent is None:
        return [f"unknown feature id {basis.inherited_from!r}"]
    wrong = []
    if basis.inherited_from not in f.related:
        wrong.append(f"inherits from {basis.inherited_from}, which is not in its related list")
    if lacking := sorted(set(basis.sectors) - set(parent[1].sectors)):
        wrong.append(f"inherits {lacking} which {basis.inherited_from} does not have")
    if stray := sorted(set(basis.sectors) - set(f.sectors)):
        wrong.append(f"inherits {stray} which are not among its sectors")
    return wrong


def check_sector_basis(features: Features, vocab: Vocabulary) -> list[Problem]:
    """Each sector is named in the feature's quote or inherited, as stated, from a zone with it."""
    problems = []
    for fid, (plan_id, f) in features.items():
        file, basis = _file(plan_id), f.sector_basis
        wrong = _basis_problems(f, features) if basis else []
        problems += [Problem(file, message, fid, "sector_basis") for message in wrong]
        inherited = set(basis.sectors) if basis and not wrong else set()
        based = sectors_named(f.source.quote, vocab) | inherited
        problems += [
            Problem(file, f"sector {code} is neither named in its quote nor inherited "
                    "(sector_basis)", fid, f"sectors[{i}]")
            for i, code in enumerate(f.sectors) if code not in based
        ]
    return problems


def check_listed_names(features: Features) -> list[Problem]:
    """Enterprises and institutions on a feature are named in its quote or in a member's.

    A member is a feature of the same plan that lists this one in `related` (a park of a zone):
    a zone may list the firms of its parks, a park not the firms of its zone.
    """
    members: dict[str, list[str]] = {}
    for fid, (_, f) in features.items():
        for r in f.related:
            members.setdefault(r, []).append(fid)
    problems = []
    for fid, (plan_id, f) in features.items():
        own = [m for m in members.get(fid, []) if features[m][0] == plan_id]
        quotes = [fold(features[q][1].source.quote) for q in (fid, *own)]
        problems += [
            Problem(_file(plan_id), f"{name!r} is not named in its quote nor in a member's",
                    fid, f"{field}[{i}]")
            for field in ("enterprises", "institutions")
            for i, name in enumerate(getattr(f, field))
            if not any(fold(name) in q for q in quotes)
        ]
    return problems


# --- kinds -----------------------------------------------------------------------------------

def kind_words_of(f: Feature, kind_words: dict[str, list[str]]) -> list[str]:
    """The kind words the text gives the element: its name's ending, an apposition in the quote."""
    words = sorted(kind_words, key=len, reverse=True)
    name = fold(f.name_zh)
    bare = re.sub(r"\([^)]*\)$", "", name)  # 基地（GCP中心）: the word before a closing gloss
    found = [next((w for w in words if bare.endswith(w)), None)]
    apposition = r"[”\"]?([^，。、；：“”\"（）(),.;:!?]{0,8})"  # …孵化中心公共服务主平台
    after = re.search(re.escape(name) + apposition, fold(f.source.quote))
    if after and after.group(1):
        found.append(next((w for w in words if after.group(1).endswith(w)), None))
    return [w for w in found if w]


def check_kinds(features: Features, kind_words: dict[str, list[str]]) -> list[Problem]:
    """`kind` is one the text's kind word allows, unless kind_note says why not."""
    return [
        Problem(_file(plan_id), f"kind {f.kind} contradicts the text's word {word!r} "
                f"({'/'.join(kind_words[word])}); fix it or give a kind_note", fid, "kind")
        for fid, (plan_id, f) in features.items() if not f.kind_note
        for word in kind_words_of(f, kind_words) if f.kind not in kind_words[word]
    ]


# --- one entity, several plans ---------------------------------------------------------------

def _core_name(name: str) -> str:
    """A name without place prefixes and bracketed places, for matching across plans."""
    core = re.sub(r"\([^)]*\)", "", fold(name))
    for prefix in _PLACE_PREFIXES:
        if core.startswith(prefix) and len(core) - len(prefix) >= 4:
            core = core[len(prefix):]
    return core


def _pairs(doc: dict, key: str) -> set[frozenset]:
    """The pairs of a links.yaml list of {pair: [a, b], why: …} entries."""
    return {frozenset(e["pair"]) for e in doc.get(key) or []}


def check_shared_entities(catalog: Catalog, features: Features, links_doc: dict) -> list[Problem]:
    """An entity in two plans is one linked group at one position, or the difference is stated."""
    groups = entity_groups({fid: f.name_zh for fid, (_, f) in features.items()},
                           [tuple(pair) for pair in links_doc.get("same_entity") or []])
    same = {frozenset((a, b)) for g in groups for a in g for b in g if a < b}
    problems = []
    by_core: dict[str, list[str]] = {}
    for fid, (_, f) in features.items():
        if f.kind not in _LAYOUT_KINDS:
            by_core.setdefault(_core_name(f.name_zh), []).append(fid)
    unlinked = same | _pairs(links_doc, "distinct")
    problems += [
        Problem(_file(features[a][0]), f"same name as {b} ({core}): link the pair in "
                "data/links.yaml same_entity or state why they differ under distinct", a, "related")
        for core, ids in by_core.items() for a in ids for b in ids
        if a < b and features[a][0] != features[b][0] and frozenset((a, b)) not in unlinked
    ]
    points = {c.plan: c.frame.set_index("id").geometry for c in catalog.plan_collections()}
    placed = [sorted(pair) for pair in same - _pairs(links_doc, "position_differs")
              if all(features[fid][1].location.precision in POINT_PRECISIONS for fid in pair)]
    if not placed:
        return problems
    first = [points[features[a][0]][a] for a, _ in placed]
    second = [points[features[b][0]][b] for _, b in placed]
    # geodesic distances of all pairs at once (WGS84, as the layers hold the points)
    distances = Geod(ellps="WGS84").inv([g.x for g in first], [g.y for g in first],
                                        [g.x for g in second], [g.y for g in second])[2]
    problems += [
        Problem(_file(features[a][0]), f"one entity at two positions: {distance:.0f} m from {b}; "
                "give both one point or state why under position_differs in data/links.yaml",
                a, "location.point")
        for (a, b), distance in zip(placed, distances) if distance > SAME_POSITION_M
    ]
    return problems
