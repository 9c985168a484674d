"""The facts of a project that incentive rules test and compute with (data/vocab/facts.yaml),
and the conversions between the units the clauses write amounts in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from geoservice.yamlfile import read_yaml

FACTS_FILE = "facts.yaml"
# Money units relative to 万元, the unit almost every clause uses.
MONEY = MappingProxyType({"元": 1e-4, "万元": 1.0, "亿元": 1e4})


@dataclass(frozen=True)
class Choice:
    """One allowed value of a choice fact."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Fact:
    """One fact a profile may give: a number in a unit, or one or more codes of a choice list."""

    name: str
    name_zh: str
    name_en: str
    unit: str | None = None  # numbers only
    choices: tuple[Choice, ...] = ()  # choice facts only
    many: bool = False  # a choice fact that takes a list (several milestones at once)
    note: str = ""

    @property
    def is_number(self) -> bool:
        """Tell whether the fact is a number (else a choice)."""
        return not self.choices

    def choice(self, code: str) -> Choice | None:
        """Return the choice with this code, if any."""
        return next((c for c in self.choices if c.code == code), None)


def load_facts(vocab_dir: Path) -> Mapping[str, Fact]:
    """Load data/vocab/facts.yaml: fact name → Fact."""
    doc = read_yaml(vocab_dir / FACTS_FILE)
    facts = {}
    for entry in doc["facts"]:
        fields = {k: v for k, v in entry.items() if k != "choices"}
        choices = tuple(Choice(**c) for c in entry.get("choices", ()))
        facts[entry["name"]] = Fact(**fields, choices=choices)
    return MappingProxyType(facts)


def convertible(unit: str, to: str) -> bool:
    """Tell whether a value in `unit` can be expressed in `to` (the same unit, or money per the
    same thing: 亿元 → 万元, 万元/亩 → 元/亩)."""
    (head, per), (to_head, to_per) = _split(unit), _split(to)
    return unit == to or per == to_per and {head, to_head} <= MONEY.keys()


def convert(value: float, unit: str, to: str) -> float:
    """Express a value in another unit: 10 亿元 → 100000 万元, 50 万元/亩 → 500000 元/亩."""
    if unit == to:
        return value
    if not convertible(unit, to):
        raise ValueError(f"cannot convert {unit} to {to}")
    return value * MONEY[_split(unit)[0]] / MONEY[_split(to)[0]]


def is_money(unit: str | None) -> bool:
    """Tell whether a unit is a sum of money (万元, 亿元, 元)."""
    return unit in MONEY


def per_unit(unit: str) -> str | None:
    """Return what a rate is counted per: '万元/亩' → '亩'; None for a plain unit."""
    return _split(unit)[1]


def _split(unit: str) -> tuple[str, str | None]:
    """Split 'money/denominator' into its two parts."""
    head, _, tail = unit.partition("/")
    return head, tail or None
