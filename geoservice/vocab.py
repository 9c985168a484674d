"""Sector and element-kind vocabularies: codes, zh/en names, synonyms, lookup."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

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

    @classmethod
    def from_terms(cls, terms: list[Term], schemes: dict | None = None) -> "Vocabulary":
        """Build the vocabulary and its label index."""
        index: dict[str, list[str]] = {}
        for term in terms:
            for label in term.labels():
                codes = index.setdefault(normalise(label), [])
                if term.code not in codes:
                    codes.append(term.code)
        return cls(
            MappingProxyType({t.code: t for t in terms}),
            MappingProxyType(schemes or {}),
            MappingProxyType({k: tuple(v) for k, v in index.items()}),
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


def _terms(entries: list[dict]) -> list[Term]:
    """Make terms from YAML entries."""
    return [Term(**{**e, "synonyms": tuple(e.get("synonyms", ()))}) for e in entries]


def load_sectors(vocab_dir: Path) -> Vocabulary:
    """Load data/vocab/sectors.yaml."""
    doc = read_yaml(vocab_dir / "sectors.yaml")
    return Vocabulary.from_terms(_terms(doc["sectors"]), doc.get("schemes"))


def load_kinds(vocab_dir: Path) -> Vocabulary:
    """Load data/vocab/kinds.yaml."""
    doc = read_yaml(vocab_dir / "kinds.yaml")
    return Vocabulary.from_terms(_terms(doc["kinds"]))
