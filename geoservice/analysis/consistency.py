"""Cross-plan consistency: where two plans disagree about the same thing, or may name the same
thing without saying so. Each finding quotes both clauses, so a person decides.

Four kinds of finding:
- `sector_role`: the same element (same Chinese name, a data/links.yaml pair, or a declared
  cross-plan `related` link between elements of one kind) is given different sectors (compared
  within the sector schemes both plans use) or different roles in the two plans' layouts;
- `link_candidate`: an element one plan names that another plan's text also names, with no link
  between the plans yet (exact name, a known alias, or a pinyin-similar element name);
- `target_mismatch`: targets of two plans on the same metric for the same place that differ in
  value, unit or year;
- `one_way_link`: a `related` link from one plan's element to another plan's element that the
  other plan's file does not return (within one plan, a member pointing at its whole is the
  convention and the loader adds the way back).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
from pypinyin import lazy_pinyin

from geoservice.analysis.targets import all_targets, load_families
from geoservice.catalog import Catalog
from geoservice.yamlfile import read_yaml

KINDS = {
    "sector_role": ("同一要素的产业或定位不同", "Same element, different sectors or roles"),
    "link_candidate": ("可能是同一要素（待确认）", "Possibly the same element (to confirm)"),
    "target_mismatch": ("同一指标的目标不同", "Same metric, different targets"),
    "one_way_link": ("单向关联", "Link that points one way only"),
}
MIN_NAME_CHARS = 4  # shorter names (一链, 医院) match too much text to mean anything
PINYIN_SIMILARITY = 0.86  # difflib ratio of toneless pinyin for two element names
METRIC_SIMILARITY = 0.8  # difflib ratio of two Chinese metric names
QUOTE_CHARS = 90
_SENTENCE_END = "。；！？\n"
_HEADING = re.compile(r"^\s*(?:([一二三四五六七八九十]+)、|（([一二三四五六七八九十]+)）)")


@dataclass(frozen=True)
class Clause:
    """One side of a finding: the plan, the element (if any) and the words of the plan."""

    plan: str
    plan_title_zh: str
    section: str
    quote: str
    href: str = ""
    feature: str | None = None
    name_zh: str = ""


@dataclass(frozen=True)
class Finding:
    """Something two plans say that a person should look at."""

    kind: str
    detail: str
    a: Clause
    b: Clause
    facts: dict = field(default_factory=dict)
    detail_en: str = ""

    @property
    def title_zh(self) -> str:
        """Return the Chinese name of the finding's kind."""
        return KINDS[self.kind][0]

    @property
    def title_en(self) -> str:
        """Return the English name of the finding's kind."""
        return KINDS[self.kind][1]


def _feature_clause(catalog: Catalog, row: pd.Series, fid: str) -> Clause:
    """Cite a feature by its own clause."""
    src = row["source"]
    return Clause(
        row["plan"],
        catalog.plans[row["plan"]].plan.title_zh,
        src["section"],
        src["quote"],
        src.get("href", ""),
        fid,
        row["name_zh"],
    )


def _fold(text: str) -> str:
    """Fold text for matching names: NFKC, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def same_entity_pairs(
    catalog: Catalog, data_dir: Path, features: pd.DataFrame
) -> set[tuple[str, str]]:
    """Return pairs of elements of two plans that stand for one thing: same Chinese name, a
    data/links.yaml pair, or a declared cross-plan `related` link between elements of one kind."""
    pairs = set()
    by_name = features.groupby("name_zh").groups
    for ids in by_name.values():
        ids = list(ids)
        pairs |= {
            tuple(sorted((a, b)))
            for a in ids
            for b in ids
            if a < b and features.at[a, "plan"] != features.at[b, "plan"]
        }
    links = data_dir / "links.yaml"
    if links.exists():
        pairs |= {tuple(sorted(p)) for p in (read_yaml(links).get("same_entity") or [])}
    for plan in catalog.plans.values():
        for f in plan.features:
            for other in f.related:
                if (
                    other in features.index
                    and features.at[other, "plan"] != plan.plan.id
                    and features.at[other, "kind"] == f.kind
                ):
                    pairs.add(tuple(sorted((f.id, other))))
    return pairs


def sector_role_findings(catalog: Catalog, data_dir: Path) -> list[Finding]:
    """The same element given different sectors or roles by two plans."""
    features = catalog.plan_features
    terms = catalog.sectors.terms
    out = []
    for a, b in sorted(same_entity_pairs(catalog, data_dir, features)):
        fa, fb = features.loc[a], features.loc[b]
        schemes = {terms[c].scheme for c in fa["sectors"]} & {
            terms[c].scheme for c in fb["sectors"]
        }
        sa = {c for c in fa["sectors"] if terms[c].scheme in schemes}
        sb = {c for c in fb["sectors"] if terms[c].scheme in schemes}
        notes, notes_en, facts = [], [], {}
        if sa != sb:
            only_a = "、".join(terms[c].name_zh for c in sorted(sa - sb)) or "—"
            only_b = "、".join(terms[c].name_zh for c in sorted(sb - sa)) or "—"
            notes.append(f"产业不同：仅前者 {only_a}；仅后者 {only_b}")
            only_a_en = ", ".join(terms[c].name_en for c in sorted(sa - sb)) or "none"
            only_b_en = ", ".join(terms[c].name_en for c in sorted(sb - sa)) or "none"
            notes_en.append(
                f"sectors differ: only the first has {only_a_en}; only the second {only_b_en}"
            )
            facts["sectors"] = [sorted(sa - sb), sorted(sb - sa)]
        ra, rb = _role(catalog, fa), _role(catalog, fb)
        if ra and rb and fa["role_zh"] != fb["role_zh"]:
            notes.append(f"定位不同：{ra}；{rb}")
            notes_en.append(f"roles differ: {ra} / {rb}")
            facts["roles"] = [fa["role_zh"], fb["role_zh"]]
        if notes:
            out.append(
                Finding(
                    "sector_role",
                    "；".join(notes),
                    _feature_clause(catalog, fa, a),
                    _feature_clause(catalog, fb, b),
                    facts,
                    "; ".join(notes_en),
                )
            )
    return out


def _role(catalog: Catalog, row: pd.Series) -> str:
    """Describe an element's role in its plan's layout (e.g. “1+3+X” 中的 “1”)."""
    role = row["role_zh"]
    if not isinstance(role, str) or not role:
        return ""
    layout = catalog.plans[row["plan"]].plan.layout_zh
    return f"“{layout}”中的“{role}”" if layout else f"“{role}”"


def _text_clause(catalog: Catalog, plan_id: str, start: int, end: int) -> Clause:
    """Cite the sentence of a plan's text around a span, with the heading it falls under."""
    text = catalog.texts[plan_id].text
    left = max((text.rfind(c, 0, start) for c in _SENTENCE_END), default=-1) + 1
    rights = [i for i in (text.find(c, end) for c in _SENTENCE_END) if i >= 0]
    right = min(rights) + 1 if rights else len(text)
    left, right = max(left, start - QUOTE_CHARS), min(right, end + QUOTE_CHARS)
    quote = re.sub(r"\s+", "", text[left:right])
    return Clause(
        plan_id,
        catalog.plans[plan_id].plan.title_zh,
        _section(text, start),
        quote,
        f"/plans/{plan_id}/source",
    )


def _section(text: str, position: int) -> str:
    """Return the heading numbers a position falls under, as the plan files write them: 二(四)."""
    chapter = sub = ""
    for line in text[:position].splitlines():
        m = _HEADING.match(line)
        if m and m.group(1):
            chapter, sub = m.group(1), ""
        elif m:
            sub = m.group(2)
    return f"{chapter}({sub})" if chapter and sub else chapter


@lru_cache(maxsize=4096)
def _pinyin(name: str) -> str:
    """Return a name's toneless pinyin, syllables joined."""
    return "".join(lazy_pinyin(name))


def link_candidates(catalog: Catalog, data_dir: Path) -> list[Finding]:
    """Elements of one plan that another plan's text names too, with no link between them yet:
    by exact name, by a known alias (the names of its data/links.yaml partners, the name without
    a bracketed place), or by a pinyin-similar element name of the other plan."""
    features = catalog.plan_features
    features = features[features["kind"] != "region"]
    linked = {
        (fid, features.at[o, "plan"])
        for fid, rel in features["related"].items()
        for o in rel
        if o in features.index
    }
    aliases = _aliases(data_dir, features)
    folded = {pid: _fold(t.text) for pid, t in catalog.texts.items()}
    out = []
    for fid, row in features.iterrows():
        names = [
            n
            for n in dict.fromkeys([row["name_zh"], *aliases.get(fid, ())])
            if len(n) >= MIN_NAME_CHARS
        ]
        for pid in catalog.texts:
            if pid == row["plan"] or (fid, pid) in linked:
                continue
            hit = _find_name(catalog.texts[pid].text, folded[pid], names)
            if hit is not None:
                start, end, name = hit
                how = "exact name" if name == row["name_zh"] else f"alias {name}"
                out.append(
                    Finding(
                        "link_candidate",
                        f"另一规划原文也提到“{name}”（{how}）",
                        _feature_clause(catalog, row, fid),
                        _text_clause(catalog, pid, start, end),
                        {"match": "name" if name == row["name_zh"] else "alias", "name": name},
                        f"the other plan's text also names “{name}” ({how})",
                    )
                )
    out += _pinyin_candidates(catalog, features)
    return out


def _aliases(data_dir: Path, features: pd.DataFrame) -> dict[str, list[str]]:
    """Return other names of elements: their links.yaml partners' names, and the name without a
    bracketed part (中科环渤海（烟台）药物高等研究院 → 中科环渤海药物高等研究院)."""
    out: dict[str, list[str]] = {}
    links = data_dir / "links.yaml"
    for a, b in (read_yaml(links).get("same_entity") or []) if links.exists() else []:
        if a in features.index and b in features.index:
            out.setdefault(a, []).append(features.at[b, "name_zh"])
            out.setdefault(b, []).append(features.at[a, "name_zh"])
    for fid, name in features["name_zh"].items():
        bare = re.sub(r"[（(][^）)]*[）)]", "", name)
        if bare != name:
            out.setdefault(fid, []).append(bare)
    return out


def _find_name(text: str, folded: str, names: list[str]) -> tuple[int, int, str] | None:
    """Return where the first of the names occurs in a text (its span in the original text)."""
    for name in names:
        key = _fold(name)
        if key and key in folded:
            m = re.search(r"\s*".join(map(_either_width, key)), text)
            if m:
                return m.start(), m.end(), name
    return None


def _either_width(char: str) -> str:
    """Return a pattern matching a character as written or in its full-width form (ASCII only)."""
    if "!" <= char <= "~":
        return f"[{re.escape(char)}{chr(ord(char) + 0xFEE0)}]"
    return re.escape(char)


def _pinyin_candidates(catalog: Catalog, features: pd.DataFrame) -> list[Finding]:
    """Element names of two plans that sound alike (toneless pinyin) but are not the same name,
    the two elements not linked to each other."""
    named = features[features["name_zh"].str.len() >= MIN_NAME_CHARS]
    rows = [
        (fid, plan, name, _pinyin(name), set(related))
        for fid, plan, name, related in zip(
            named.index, named["plan"], named["name_zh"], named["related"]
        )
    ]
    out = []
    matcher = difflib.SequenceMatcher(autojunk=False)
    for i, (fa, pa, na, ya, related) in enumerate(rows):
        matcher.set_seq2(ya)  # difflib caches facts about the second sequence: keep it fixed
        for fb, pb, nb, yb, _ in rows[i + 1 :]:
            if pa == pb or na == nb or fb in related:
                continue
            if 2 * min(len(ya), len(yb)) / (len(ya) + len(yb)) < PINYIN_SIMILARITY:
                continue  # the ratio cannot reach the threshold with lengths this far apart
            matcher.set_seq1(yb)
            if matcher.quick_ratio() < PINYIN_SIMILARITY:
                continue
            ratio = matcher.ratio()
            if ratio >= PINYIN_SIMILARITY:
                out.append(
                    Finding(
                        "link_candidate",
                        f"名称读音相近（拼音相似度 {ratio:.2f}）：{na} / {nb}",
                        _feature_clause(catalog, features.loc[fa], fa),
                        _feature_clause(catalog, features.loc[fb], fb),
                        {"match": "pinyin", "similarity": round(ratio, 3)},
                        f"names sound alike (pinyin similarity {ratio:.2f}): {na} / {nb}",
                    )
                )
    return out


def target_findings(catalog: Catalog, data_dir: Path) -> list[Finding]:
    """Targets of two plans on the same metric for the same place that differ."""
    table = all_targets(catalog, load_families(data_dir))
    features = catalog.plan_features
    group = _entity_groups(same_entity_pairs(catalog, data_dir, features))
    table["place_key"] = [
        f"region:{places[0]}" if fid is None else f"element:{group.get(fid, fid)}"
        for fid, places in zip(table["feature"], table["places"])
    ]
    table["metric_key"] = table["metric_zh"].map(lambda m: re.sub(r"[\s，,、（）()]", "", m))
    out = []
    for _, same_place in table.groupby("place_key"):
        rows = same_place.to_dict("records")
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if a["plan"] == b["plan"] or not _same_metric(a["metric_key"], b["metric_key"]):
                    continue
                if (a["value"], a["unit"], a["year"]) == (b["value"], b["unit"], b["year"]):
                    continue
                out.append(
                    Finding(
                        "target_mismatch",
                        f"{a['place_zh']}：{a['metric_zh']} {_target(a)} / "
                        f"{b['metric_zh']} {_target(b)}",
                        _target_clause(catalog, a),
                        _target_clause(catalog, b),
                        {
                            "values": [a["value"], b["value"]],
                            "units": [a["unit"], b["unit"]],
                            "years": [_year(a["year"]), _year(b["year"])],
                        },
                        f"{a['place_en']}: {a['metric_en']} {_target(a, 'en')} / "
                        f"{b['metric_en']} {_target(b, 'en')}",
                    )
                )
    return out


def _entity_groups(pairs: set[tuple[str, str]]) -> dict[str, str]:
    """Return each element's group representative (union of same-entity pairs)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: root(x) for x in parent}


def _same_metric(a: str, b: str) -> bool:
    """Tell whether two metric names say the same (equal, or alike enough and not short)."""
    if a == b:
        return True
    return (
        min(len(a), len(b)) >= 4
        and difflib.SequenceMatcher(None, a, b).ratio() >= METRIC_SIMILARITY
    )


def _year(value) -> int | None:
    """Return a target year as an int (None when the plan gives none)."""
    return None if pd.isna(value) else int(value)


def _target(row: dict, lang: str = "zh") -> str:
    """Write a target as a planner reads it: 2000 亿元（2023年）, or 2000 亿元 (2023)."""
    year = _year(row["year"])
    when = (f"（{year}年）" if lang == "zh" else f" ({year})") if year else ""
    return f"{row['value']:g} {row['unit']}{when}"


def _target_clause(catalog: Catalog, row: dict) -> Clause:
    """Cite a target by its clause."""
    c = row["citation"]
    return Clause(
        row["plan"],
        row["plan_title_zh"],
        c["section"],
        c["quote"],
        c.get("href", ""),
        row["feature"],
        row["place_zh"],
    )


def one_way_links(catalog: Catalog) -> list[Finding]:
    """Declared `related` links to another plan's element that the other plan does not return."""
    features = catalog.plan_features
    declared = {f.id: set(f.related) for p in catalog.plans.values() for f in p.features}
    out = []
    for fid, related in declared.items():
        for other in sorted(related):
            if (
                other in features.index
                and features.at[other, "plan"] != features.at[fid, "plan"]
                and fid not in declared.get(other, ())
            ):
                out.append(
                    Finding(
                        "one_way_link",
                        f"{features.at[fid, 'name_zh']} → {features.at[other, 'name_zh']}："
                        "对方未回指",
                        _feature_clause(catalog, features.loc[fid], fid),
                        _feature_clause(catalog, features.loc[other], other),
                        {},
                        f"{features.at[fid, 'name_en']} → {features.at[other, 'name_en']}: "
                        "the other plan does not link back",
                    )
                )
    return out


def check_plans(
    catalog: Catalog, data_dir: Path, kinds: tuple[str, ...] | None = None
) -> list[Finding]:
    """Run every consistency check (or the kinds asked for); findings in KINDS order."""
    runs = {
        "sector_role": lambda: sector_role_findings(catalog, data_dir),
        "link_candidate": lambda: link_candidates(catalog, data_dir),
        "target_mismatch": lambda: target_findings(catalog, data_dir),
        "one_way_link": lambda: one_way_links(catalog),
    }
    unknown = set(kinds or ()) - set(runs)
    if unknown:
        raise ValueError(f"kind: {', '.join(sorted(unknown))} is not one of {', '.join(runs)}")
    return [f for kind, run in runs.items() if kinds is None or kind in kinds for f in run()]
