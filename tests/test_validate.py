"""`geoservice validate`: clean on the committed data; one clear line per problem on bad data."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA_DIR

ISOTOPES = "plans/yantai-isotopes.yaml"


def run_validate(data_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the CLI as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "geoservice.cli", "--data-dir", str(data_dir), "validate", *extra],
        capture_output=True, text=True, timeout=120,
    )


def test_committed_data_is_clean() -> None:
    result = run_validate(DATA_DIR)
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_a_copy_far_from_the_repository_is_checked_in_full(data_copy: Path) -> None:
    """Everything validate reads is in data/: a copy elsewhere runs every check (no silent skip)."""
    result = run_validate(data_copy)
    assert result.returncode == 0, result.stdout
    assert "skipped" not in result.stderr


def test_missing_plan_text_is_a_named_problem(data_copy: Path) -> None:
    (data_copy / "sources" / "yantai-isotopes.txt").unlink()
    lines = _problems(data_copy)
    assert lines == [f"data/{ISOTOPES}: field source text: data/sources/yantai-isotopes.txt not found: "
                     "the plan's text must be in the project"]


def test_source_header_must_agree_with_the_plan_file(data_copy: Path) -> None:
    path = data_copy / "sources" / "yantai-isotopes.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("date: 2023-03-03", "date: 2023-03-04", 1),
                    encoding="utf-8")
    (line,) = _problems(data_copy)
    assert line.startswith("data/sources/yantai-isotopes.txt: field date: header date: ")


def _edit(data_dir: Path, plan: str, old: str, new: str, count: int = 1) -> None:
    """Replace text in a plan file of a data copy."""
    path = data_dir / plan
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {plan}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _problems(data_dir: Path) -> list[str]:
    """Return the problem lines of a failing run."""
    result = run_validate(data_dir)
    assert result.returncode == 1
    return result.stdout.strip().splitlines()


def test_yaml_typo_names_file_and_line(data_copy: Path) -> None:
    _edit(data_copy, ISOTOPES, "features:\n", "features:\n  - id: [unclosed\n")
    (line,) = _problems(data_copy)
    assert line.startswith(f"data/{ISOTOPES}: YAML syntax error: line ")


def test_unknown_sector_names_feature_and_field(data_copy: Path) -> None:
    _edit(data_copy, ISOTOPES, "sectors: [nuc.", "sectors: [nuc.no-such-sector, nuc.")
    (line,) = _problems(data_copy)
    assert re.match(rf"data/{ISOTOPES}: feature yantai-isotopes\.[a-z0-9.-]+: field sectors\[0\]: "
                    r"unknown sector code 'nuc.no-such-sector'$", line)


def test_misspelt_field_is_reported_not_ignored(data_copy: Path) -> None:
    _edit(data_copy, ISOTOPES, "    name_en: ", "    name_english: ")
    lines = _problems(data_copy)
    assert any(re.search(r"field name_english: unknown field", line) for line in lines)


def test_point_outside_china_is_reported(data_copy: Path) -> None:
    text = (data_copy / ISOTOPES).read_text(encoding="utf-8")
    point = re.search(r"point: \[(1[0-9.]+), ([0-9.]+)\]", text)
    _edit(data_copy, ISOTOPES, point.group(0), f"point: [{point.group(2)}, {point.group(1)}]")
    (line,) = _problems(data_copy)
    assert "field location.point: point [" in line and "outside China (lon, lat swapped?)" in line


def test_point_in_the_wrong_district_is_reported(data_copy: Path) -> None:
    text = (data_copy / ISOTOPES).read_text(encoding="utf-8")
    point = re.search(r"point: \[1[0-9.]+, [0-9.]+\]", text).group(0)
    _edit(data_copy, ISOTOPES, point, "point: [104.07, 30.67]")  # Chengdu, not Yantai
    lines = _problems(data_copy)  # (the same entity in other plans now also sits elsewhere)
    assert any(re.search(r"field location\.point: point lies [0-9.]+ km outside its districts", line)
               for line in lines)


def test_unknown_district_and_duplicate_id_are_reported(data_copy: Path) -> None:
    _edit(data_copy, ISOTOPES, 'districts: ["370612"]', 'districts: ["999999"]')
    text = (data_copy / ISOTOPES).read_text(encoding="utf-8")
    first_id = re.search(r"  - id: (yantai-isotopes\.[a-z0-9.-]+)\n", text.split("features:")[1]).group(1)
    second_id = re.findall(r"  - id: (yantai-isotopes\.[a-z0-9.-]+)\n", text.split("features:")[1])[1]
    _edit(data_copy, ISOTOPES, f"id: {second_id}\n", f"id: {first_id}\n")
    lines = _problems(data_copy)
    assert any("field districts[0]: unknown district code '999999'" in line for line in lines)
    assert any(f"feature {first_id}: field id: duplicate id" in line for line in lines)


def test_missing_inventory_element_is_reported(data_copy: Path) -> None:
    _edit(data_copy, "inventory.yaml", '    - "岷江试验堆"\n', '    - "岷江试验堆"\n    - "不存在的试验堆"\n')
    (line,) = _problems(data_copy)
    assert line == ("data/plans/sichuan-nuclear-medicine.yaml: inventory element "
                    "'不存在的试验堆' has no feature with that name_zh")


def test_invented_quote_is_reported(data_copy: Path) -> None:
    text = (data_copy / ISOTOPES).read_text(encoding="utf-8")
    quote = re.search(r'quote: "([^"]{6,})"', text).group(1)
    _edit(data_copy, ISOTOPES, quote, "这句话不在规划原文里")
    lines = _problems(data_copy)  # (the fidelity checks may also miss the record's numbers in it)
    assert any(re.search(r"field source\.quote: quote not found in the plan's text: '这句话不在规划原文里'$", line)
               for line in lines)
