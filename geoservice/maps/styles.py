"""The map styles of data/maps/styles.yaml: colours, icons and labels per kind, precision and sector."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from geoservice.vocab import Vocabulary
from geoservice.yamlfile import read_yaml

DEFAULT_COLOUR = "#495057"


@dataclass(frozen=True)
class Styles:
    """Everything the pages need to know about drawing, as read from styles.yaml."""

    kinds: Mapping[str, dict]
    precision: Mapping[str, dict]
    schemes: Mapping[str, str]
    sectors: Mapping[str, str]
    boundaries: Mapping[str, Any]
    overview: Mapping[str, Any]
    plan_maps: Mapping[str, Any]
    ui: Mapping[str, dict]
    host_districts_border: str = "dashed"
    firms: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> "Styles":
        """Read data/maps/styles.yaml."""
        doc = read_yaml(data_dir / "maps" / "styles.yaml")
        return cls(
            kinds=doc["kinds"], precision=doc["precision"], schemes=doc["schemes"],
            sectors=doc["sectors"], boundaries=doc["boundaries"], overview=doc["overview"],
            plan_maps=doc["plan_maps"], ui=doc["ui"],
            host_districts_border=doc.get("host_districts_border", "dashed"),
            firms=doc.get("firms", {}),
        )

    def kind(self, code: str) -> dict:
        """Return the style of an element kind (a neutral one for a kind styles.yaml lacks)."""
        return self.kinds.get(code) or {"colour": DEFAULT_COLOUR, "icon_zh": "•", "icon_en": "•", "order": 99}

    def sector_colour(self, code: str, vocab: Vocabulary) -> str:
        """Return the colour of a sector: its own, else its parent's, else its scheme's."""
        seen = set()
        while code and code not in seen:
            seen.add(code)
            if code in self.sectors:
                return self.sectors[code]
            term = vocab.terms.get(code)
            if term is None:
                break
            if term.parent is None:
                return self.schemes.get(term.scheme, DEFAULT_COLOUR)
            code = term.parent
        return DEFAULT_COLOUR

    def label(self, key: str) -> dict:
        """Return the {zh, en} text of one of the page's own labels."""
        return self.ui.get(key) or {"zh": key, "en": key}
