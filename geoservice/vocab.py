"""Sector and element-kind vocabularies: codes, zh/en names, synonyms, lookup."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from geoservice.yamlfile import read_yaml


@dataclass(frozen=True)
class Term:
    """One vocabulary entry."""

    code: str
    name_zh: str
    name_en: str
    scheme: str = ""
    parent: str | None = None
    synonyms: tuple[str, ...] = ()
    note: str = ""
    geometry: str = ""

    def labels(self) -> tuple[str, ...]:
        """Return every string this term answers to."""
        return (self.code, self.name_zh, self.name_en, *self.synonyms)


class UnknownTerm(ValueError):
    """A label that is no code, name or synonym of the vocabulary; carries the closest labels."""

    def __init__(self, label: str, closest: tuple[str, ...]) -> None:
        hint = f"; closest known labels: {', '.join(closest)}" if closest else ""
        super().__init__(f"{label!r} is no known code, name or synonym{hint}")
        self.label, self.closest = label, closest


@dataclass(frozen=True)
class IndustryClass:
    """A class of the national industry classification (GB/T 4754) and the plan sectors it covers."""

    code: str
    name_zh: str
    name_en: str
    sectors: tuple[str, ...]

    def labels(self) -> tuple[str, ...]:
        """Return the code (with and without its section letter) and the names."""
        return (self.code, self.code[1:], self.name_zh, self.name_en)


def normalise(text: str) -> str:
    """Fold a label for matching: NFKC (full-width → ASCII), casefold, unify dashes and spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[‐‑‒–—－_]", "-", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Vocabulary:
    """An immutable set of terms with lookup by any label."""

    terms: Mapping[str, Term]
    schemes: Mapping[str, dict] = field(default_factory=dict)
    _index: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    industry: tuple[IndustryClass, ...] = ()
    _labels: Mapping[str, str] = field(default_factory=dict, repr=False)  # folded → as written

    @classmethod
    def from_terms(cls, terms: list[Term], schemes: dict | None = None,
                   industry: Iterable[IndustryClass] = ()) -> Vocabulary:
        """Build the vocabulary and its label index; industry classes answer to their labels with
        the plan codes they map to."""
        industry = tuple(industry)
        index: dict[str, list[str]] = {}
        labels: dict[str, str] = {}
        entries = [(t.labels(), (t.code,)) for t in terms]
        entries += [(c.labels(), c.sectors) for c in industry]
        for names, targets in entries:
            for label in names:
                labels.setdefault(normalise(label), label)
                codes = index.setdefault(normalise(label), [])
                codes.extend(c for c in targets if c not in codes)
        return cls(
            MappingProxyType({t.code: t for t in terms}),
            MappingProxyType(schemes or {}),
            MappingProxyType({k: tuple(v) for k, v in index.items()}),
            industry,
            MappingProxyType(labels),
        )

    def __contains__(self, code: object) -> bool:
        return code in self.terms

    def lookup(self, label: str) -> tuple[str, ...]:
        """Return the codes a code, Chinese or English name or synonym refers to."""
        return self._index.get(normalise(label), ())

    def expand(self, code: str) -> frozenset[str]:
        """Return the code and all its descendants (a query for a parent matches children)."""
        found = {code}
        changed = True
        while changed:
            children = {t.code for t in self.terms.values() if t.parent in found}
            changed = not children <= found
            found |= children
        return frozenset(found)

    def with_ancestors(self, codes: Iterable[str]) -> frozenset[str]:
        """Return the codes and every broader code above them (a clause for a parent covers its children)."""
        found = set(codes)
        frontier = set(found)
        while frontier:
            frontier = {p for c in frontier if c in self.terms and (p := self.terms[c].parent)} - found
            found |= frontier
        return frozenset(found)

    def resolve(self, label: str) -> frozenset[str]:
        """Return every code matched by a label, children included."""
        return frozenset().union(*(self.expand(c) for c in self.lookup(label)))

    def require(self, label: str) -> frozenset[str]:
        """Like resolve, but an unknown label raises UnknownTerm naming the closest known labels."""
        codes = self.resolve(label)
        if not codes:
            raise UnknownTerm(label, self.closest(label))
        return codes

    def closest(self, label: str, n: int = 5) -> tuple[str, ...]:
        """Return up to n known labels most like `label` (difflib ratio over the folded labels)."""
        found = difflib.get_close_matches(normalise(label), list(self._labels), n=n, cutoff=0.4)
        return tuple(self._labels[f] for f in found)


def _terms(entries: list[dict]) -> list[Term]:
    """Make terms from YAML entries."""
    return [Term(**{**e, "synonyms": tuple(e.get("synonyms", ()))}) for e in entries]


def load_industry_classes(path: Path) -> list[IndustryClass]:
    """Read data/vocab/industry_codes.yaml; a group or division covers the sectors of every class
    whose code starts with its own."""
    if not path.exists():
        return []
    entries = read_yaml(path)["classes"]
    return [IndustryClass(
        str(e["code"]), e["name_zh"], e["name_en"],
        tuple(dict.fromkeys(s for other in entries if str(other["code"]).startswith(str(e["code"]))
                            for s in other.get("sectors") or ())),
    ) for e in entries]


def load_sectors(vocab_dir: Path) -> Vocabulary:
    """Load data/vocab/sectors.yaml, with the industry classes of industry_codes.yaml as labels."""
    doc = read_yaml(vocab_dir / "sectors.yaml")
    industry = load_industry_classes(vocab_dir / "industry_codes.yaml")
    return Vocabulary.from_terms(_terms(doc["sectors"]), doc.get("schemes"), industry)


def load_kinds(vocab_dir: Path) -> Vocabulary:
    """Load data/vocab/kinds.yaml."""
    doc = read_yaml(vocab_dir / "kinds.yaml")
    return Vocabulary.from_terms(_terms(doc["kinds"]))
