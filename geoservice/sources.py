"""The plans' own texts (data/sources/<plan id>.txt) and where each cited quote sits in them.

A text file is a YAML header between `---` lines (title, issuer, document number, date, where
it was published), then the text exactly as published. Quotes are matched on a folded form of
both (NFKC, one kind of quote mark, no whitespace, PDF artefacts normalised) and mapped back to
positions in the published text, so a page can highlight each cited passage where it stands.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from geoservice.plans import PlanFile, clean_text

HEADER_FIELDS = ("plan", "title", "issuer", "doc_number", "date", "status", "published_zh", "published_en")
_QUOTE_MARKS = re.compile(r"[“”\"「」『』‘’']")
_ELLIPSIS = re.compile(r"…+|\.\.\.+|⋯+")


def _fold_char(char: str) -> str:
    """Fold one character for matching ('' for whitespace)."""
    folded = unicodedata.normalize("NFKC", clean_text(char))
    return "".join('"' if _QUOTE_MARKS.match(c) else c for c in folded if not c.isspace())


def fold(text: str) -> str:
    """Fold text for quote matching: artefacts and full-width forms normalised, no whitespace."""
    return "".join(_fold_char(c) for c in text)


def quote_fragments(quote: str) -> list[str]:
    """Split a quote at its ellipses into the folded fragments that must each occur in the text."""
    return [f for f in _ELLIPSIS.split(fold(quote)) if f]


@dataclass(frozen=True)
class PlanText:
    """One plan's published text with its bibliographic header."""

    path: Path
    meta: Mapping[str, Any]
    text: str

    @cached_property
    def _folded(self) -> tuple[str, list[int]]:
        """Return the folded text and, per folded character, its offset in the published text."""
        chars, offsets = [], []
        for i, char in enumerate(self.text):
            for folded in _fold_char(char):
                chars.append(folded)
                offsets.append(i)
        return "".join(chars), offsets

    def contains(self, fragment: str) -> bool:
        """Tell whether a folded fragment occurs in the text."""
        return fragment in self._folded[0]

    def locate(self, quote: str) -> list[tuple[int, int]] | None:
        """Return the [start, end) spans of the quote's fragments in the published text, in order
        (each fragment searched after the previous one first); None if a fragment is missing."""
        folded, offsets = self._folded
        spans, after = [], 0
        for fragment in quote_fragments(quote):
            at = folded.find(fragment, after)
            if at < 0:
                at = folded.find(fragment)
            if at < 0:
                return None
            end = at + len(fragment)
            spans.append((offsets[at], offsets[end - 1] + 1))
            after = end
        return spans


def read_plan_text(path: Path) -> PlanText:
    """Read a source file; raise ValueError when its header is missing or malformed."""
    content = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", content, re.S)
    if not match:
        raise ValueError("the file must start with a header between '---' lines")
    meta = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict):
        raise ValueError("the header must be a mapping (title, issuer, doc_number, date, …)")
    return PlanText(path, meta, content[match.end():])


def load_plan_texts(sources_dir: Path, plan_ids: Iterable[str]) -> tuple[dict[str, PlanText], dict[str, str]]:
    """Read the text of each plan; return the texts and, per plan that has none, the reason."""
    texts, missing = {}, {}
    for plan_id in plan_ids:
        path = sources_dir / f"{plan_id}.txt"
        try:
            texts[plan_id] = read_plan_text(path)
        except FileNotFoundError:
            missing[plan_id] = f"data/sources/{plan_id}.txt not found: the plan's text must be in the project"
        except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
            missing[plan_id] = f"data/sources/{plan_id}.txt: {exc}"
    return texts, missing


@dataclass(frozen=True)
class Cited:
    """One record's citation: which record, of which kind, quoting what."""

    record_id: str
    kind: str  # feature | incentive | target
    plan_id: str
    section: str
    quote: str


def anchor(record_id: str) -> str:
    """Return the HTML anchor of a record's cited passage on its plan's source page."""
    return f"cite-{record_id}"


def source_href(plan_id: str, record_id: str) -> str:
    """Return the service-relative link to a record's passage in its plan's text."""
    return f"/plans/{plan_id}/source#{anchor(record_id)}"


def citations(plans: Mapping[str, PlanFile]) -> list[Cited]:
    """Return every citation of the plans: features, their targets, incentives, plan targets."""
    out = []
    for plan_id, plan in plans.items():
        for i, t in enumerate(plan.targets):
            if t.source:
                out.append(Cited(f"{plan_id}.target-{i + 1}", "target", plan_id, t.source.section, t.source.quote))
        for f in plan.features:
            out.append(Cited(f.id, "feature", plan_id, f.source.section, f.source.quote))
            for i, t in enumerate(f.targets):
                if t.source:
                    out.append(Cited(f"{f.id}.target-{i + 1}", "target", plan_id, t.source.section, t.source.quote))
        for inc in plan.incentives:
            out.append(Cited(inc.id, "incentive", plan_id, inc.source.section, inc.source.quote))
    return out


def segments(text: str, marks: Iterable[tuple[str, list[tuple[int, int]]]]) -> list[tuple[str, tuple[str, ...]]]:
    """Cut a text into runs, each with the record ids whose cited spans cover it (overlaps kept)."""
    marks = list(marks)
    cuts = sorted({0, len(text), *(p for _, spans in marks for span in spans for p in span)})
    covering: list[set[str]] = [set() for _ in cuts]
    for record_id, spans in marks:
        for start, end in spans:
            for k in range(bisect.bisect_left(cuts, start), bisect.bisect_left(cuts, end)):
                covering[k].add(record_id)
    return [(text[a:b], tuple(sorted(covering[k]))) for k, (a, b) in enumerate(zip(cuts, cuts[1:])) if a < b]


@dataclass(frozen=True)
class Passage:
    """A run of a plan's text and the records that cite it."""

    text: str
    cited_by: tuple[str, ...]
    anchors: tuple[str, ...]  # records whose first cited span starts here


def passages(text: PlanText, cited: Iterable[Cited]) -> tuple[list[Passage], list[Cited]]:
    """Cut a plan's text into passages, each marked with the records citing it; return them and
    the citations whose quote could not be found (validate reports those)."""
    located, lost = [], []
    for c in cited:
        spans = text.locate(c.quote)
        (located.append((c, spans)) if spans else lost.append(c))
    starts: dict[int, list[str]] = {}
    for c, spans in located:
        starts.setdefault(spans[0][0], []).append(c.record_id)
    runs, at = [], 0
    for run, ids in segments(text.text, [(c.record_id, spans) for c, spans in located]):
        runs.append(Passage(run, ids, tuple(starts.pop(at, ()))))
        at += len(run)
    return runs, lost
