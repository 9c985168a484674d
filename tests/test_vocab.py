"""Sector vocabulary: lookup by code, Chinese name, English name or synonym."""

from __future__ import annotations

import pytest

from geoservice.vocab import load_kinds, load_sectors
from tests.conftest import DATA_DIR

SECTORS = load_sectors(DATA_DIR / "vocab")


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("bio.cell-gene-therapy", "bio.cell-gene-therapy"),  # the code itself
        ("细胞与基因治疗", "bio.cell-gene-therapy"),          # Chinese name
        ("Cell and gene therapy", "bio.cell-gene-therapy"),  # English name, any case
        ("CGT", "bio.cell-gene-therapy"),                    # synonym
        ("放射性药物", "nuc.radiopharma"),
        ("radiopharmaceuticals", "nuc.radiopharma"),
        ("Lu-177", "iso.lu-177"),
        ("镥－177", "iso.lu-177"),                            # full-width dash as the seeds print it
        ("177Lu", "iso.lu-177"),
        ("康养旅游", "health.tourism"),
        ("未来产业", "sd.future-industries"),
    ],
)
def test_lookup_finds_the_code(label: str, code: str) -> None:
    assert code in SECTORS.lookup(label)


def test_a_shared_name_returns_every_scheme_that_uses_it() -> None:
    assert {"bio.tcm", "health.tcm", "sd.tcm"} <= set(SECTORS.lookup("中医药"))


def test_a_parent_expands_to_its_isotopes() -> None:
    codes = SECTORS.resolve("医用同位素")
    assert {"nuc.isotopes", "iso.mo-99", "iso.lu-177", "iso.ac-225"} <= codes


def test_unknown_label_finds_nothing() -> None:
    assert SECTORS.lookup("no such sector") == ()


def test_every_parent_exists_and_codes_are_unique() -> None:
    codes = list(SECTORS.terms)
    assert len(codes) == len(set(codes))
    assert all(t.parent in SECTORS for t in SECTORS.terms.values() if t.parent)


def test_vocabulary_covers_the_plans_sector_lists() -> None:
    schemes = {}
    for term in SECTORS.terms.values():
        schemes.setdefault(term.scheme, set()).add(term.code)
    assert len(schemes["bio"]) == 8       # 八大细分领域
    assert len(schemes["health"]) == 8    # 医康养药中旅体智
    assert len(schemes["nuc"]) == 4       # isotopes → radiopharma / equipment → clinical
    assert len(schemes["sd"]) == 5        # five action areas
    assert {"iso.mo-99", "iso.i-131", "iso.lu-177", "iso.ac-225", "iso.cu-64"} <= schemes["iso"]


def test_kinds_are_looked_up_in_both_languages() -> None:
    kinds = load_kinds(DATA_DIR / "vocab")
    assert kinds.lookup("医院") == ("hospital",)
    assert kinds.lookup("Growth pole") == ("pole",)
