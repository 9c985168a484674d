"""Fidelity checks of `geoservice validate`: each test plants one error in a data copy."""

from __future__ import annotations

import functools
from pathlib import Path

from geoservice.fidelity import quoted_numbers, sectors_named
from geoservice.vocab import load_sectors
from tests.conftest import DATA_DIR
from tests.test_validate import _edit, run_validate


@functools.cache
def _baseline() -> frozenset[str]:
    """Problem lines of the committed data (none once it is clean), so a test sees only its own."""
    return frozenset(run_validate(DATA_DIR).stdout.strip().splitlines())


def _problems(data_dir: Path) -> list[str]:
    """Return the problem lines the planted error adds to those of the committed data."""
    result = run_validate(data_dir)
    assert result.returncode == 1
    return [line for line in result.stdout.strip().splitlines() if line not in _baseline()]


BIOMED = "plans/yantai-biomed-1p3x.yaml"
HEALTH = "plans/yantai-health-2345.yaml"


def test_numbers_are_read_as_the_text_writes_them() -> None:
    numbers = quoted_numbers(
        "到 ２０２３ 年，主营业务收入突破 2000 亿元，打造千亿级产业，产值过亿元"
    )
    assert {2023, 2000, 1e11, 1e8} <= numbers


def test_one_character_domain_counts_only_in_quotation_marks() -> None:
    vocab = load_sectors(DATA_DIR / "vocab")
    assert "health.medical" in sectors_named("围绕“医”“康”八大重点领域", vocab)
    assert "health.tcm" not in sectors_named("中部芝罘区", vocab)


def test_area_not_in_its_quote_is_reported(data_copy: Path) -> None:
    _edit(data_copy, BIOMED, "planned_area_km2: 22.6", "planned_area_km2: 23.6")
    (line,) = _problems(data_copy)
    assert line == (
        f"data/{BIOMED}: feature yantai-biomed-1p3x.core-zone: field planned_area_km2: "
        "planned area 23.6 not stated in its quote"
    )


def test_target_value_and_year_not_in_their_quote_are_reported(data_copy: Path) -> None:
    _edit(
        data_copy,
        BIOMED,
        "value: 2000\n    unit: 亿元\n    year: 2023",
        "value: 3000\n    unit: 亿元\n    year: 2024",
    )
    lines = _problems(data_copy)
    assert lines == [
        f"data/{BIOMED}: field targets[0].value: value 3000 not stated in its quote",
        f"data/{BIOMED}: field targets[0].year: year 2024 not stated in its quote",
    ]


def test_feature_target_checked_against_the_feature_quote(data_copy: Path) -> None:
    _edit(
        data_copy,
        BIOMED,
        "metric_zh: 推出可用空间, value: 5000,",
        "metric_zh: 推出可用空间, value: 6000,",
    )
    (line,) = _problems(data_copy)
    assert line.endswith(
        "yantai-biomed-1p3x.api-zone: field targets[0].value: value 6000 not stated in its quote"
    )


def test_sector_without_basis_is_reported(data_copy: Path) -> None:
    _edit(
        data_copy,
        BIOMED,
        '    sectors: [bio.high-end-api]\n    districts: ["370682"]',
        '    sectors: [bio.high-end-api, bio.medical-aesthetics]\n    districts: ["370682"]',
    )
    (line,) = _problems(data_copy)
    assert line == (
        f"data/{BIOMED}: feature yantai-biomed-1p3x.api-zone: field sectors[1]: sector "
        "bio.medical-aesthetics is neither named in its quote nor inherited (sector_basis)"
    )


def test_inheriting_a_sector_the_parent_lacks_is_reported(data_copy: Path) -> None:
    basis = "sector_basis: {inherited_from: yantai-biomed-1p3x.%s, sectors: [bio.innovative-drugs]}"
    _edit(data_copy, BIOMED, basis % "core-zone", basis % "api-zone")
    lines = _problems(data_copy)
    assert any(
        "yantai-biomed-1p3x.vaccine-base: field sector_basis: inherits "
        "['bio.innovative-drugs'] which yantai-biomed-1p3x.api-zone does not have" in line
        for line in lines
    )


def test_firm_not_named_in_the_text_is_reported(data_copy: Path) -> None:
    _edit(
        data_copy,
        BIOMED,
        "    enterprises: [国药集团, 多维制药, 中节能万润]",
        "    enterprises: [国药集团, 多维制药, 中节能万润, 瑞康医药]",
    )
    (line,) = _problems(data_copy)
    assert line.endswith(
        "yantai-biomed-1p3x.api-zone: field enterprises[3]: '瑞康医药' is not named in "
        "its quote nor in a member's"
    )


def test_kind_contradicting_the_text_word_is_reported_unless_noted(data_copy: Path) -> None:
    block = (
        "    name_zh: 山东生物制品（疫苗）产业化基地\n"
        "    name_en: Shandong Biologics (Vaccine) Industrialisation Base\n    kind: "
    )
    _edit(data_copy, BIOMED, block + "base", block + "park")
    (line,) = _problems(data_copy)
    assert (
        "yantai-biomed-1p3x.vaccine-base: field kind: kind park contradicts the text's word '基地'"
        in line
    )
    _edit(data_copy, BIOMED, block + "park\n", block + 'park\n    kind_note: "a test states why"\n')
    assert not any("vaccine-base: field kind" in line for line in _problems_or_none(data_copy))


def _problems_or_none(data_dir: Path) -> list[str]:
    """Return the problem lines the edit adds, or none."""
    return [
        line
        for line in run_validate(data_dir).stdout.strip().splitlines()
        if line not in _baseline()
    ]


def test_one_entity_at_two_positions_is_reported(data_copy: Path) -> None:
    _edit(data_copy, HEALTH, "point: [121.393, 37.534]", "point: [121.40, 37.52]")
    lines = _problems(data_copy)
    assert any(
        "yantai-biomed-1p3x.yuhuangding-hospital: field location.point: one entity at two "
        "positions: 1"
        in line
        and "from yantai-health-2345.yuhuangding" in line
        for line in lines
    )
    links = data_copy / "links.yaml"
    links.write_text(
        links.read_text(encoding="utf-8")
        + (
            "position_differs:\n"
            "  - {pair: [yantai-biomed-1p3x.yuhuangding-hospital, yantai-health-2345.yuhuangding],"
            " why: a test states the difference}\n"
            "  - {pair: [yantai-health-2345.yuhuangding, yantai-isotopes.yuhuangding-hospital],"
            " why: a test states the difference}\n"
        ),
        encoding="utf-8",
    )
    assert _problems_or_none(data_copy) == []


def test_same_name_in_two_plans_unlinked_is_reported(data_copy: Path) -> None:
    _edit(
        data_copy,
        "links.yaml",
        "  - [yantai-biomed-1p3x.drug-lab-sd, yantai-isotopes.shandong-lab]",
        "",
    )
    lines = _problems(data_copy)
    assert any("field related: same name as" in line and "shandong-lab" in line for line in lines)
    links = data_copy / "links.yaml"
    links.write_text(
        links.read_text(encoding="utf-8")
        + "distinct:\n  - {pair: [yantai-biomed-1p3x.drug-lab-sd, yantai-isotopes.shandong-lab],"
        " why: a test states the difference}\n",
        encoding="utf-8",
    )
    assert _problems_or_none(data_copy) == []


def test_layer_and_popup_say_which_sectors_are_inherited(catalog) -> None:
    from geoservice.maps.popups import popup_html
    from geoservice.maps.registry import Atlas

    frame = catalog["yantai-biomed-1p3x"].frame.set_index("id", drop=False)
    park = frame.loc["yantai-biomed-1p3x.blue-valley"]
    assert park["sector_basis"]["inherited_from"] == "yantai-biomed-1p3x.core-zone"
    assert park["sector_basis"]["inherited_from_zh"] == "生命科学创新引领核心区"
    assert set(park["sector_basis"]["sectors"]) == set(park["sectors"])
    assert frame.loc["yantai-biomed-1p3x.api-zone", "sector_basis"] is None
    assert frame.loc["yantai-biomed-1p3x.api-zone", "planned_area_zh"] == "核心区规划面积"

    atlas = Atlas(catalog, DATA_DIR, api_base="")
    ctx = atlas.inputs(atlas.specs()["yantai-biomed-1p3x"]).popups
    popup = popup_html(park.to_dict(), ctx)
    assert "inherited from" in popup and "继承自" in popup and "生命科学创新引领核心区" in popup
    zone = popup_html(frame.loc["yantai-biomed-1p3x.api-zone"].to_dict(), ctx)
    assert "13 km² (核心区规划面积)" in zone and "inherited from" not in zone
