"""Industry codes (GB/T 4754-2017) as sector labels everywhere a sector is asked for."""

from __future__ import annotations

import pytest

from geoservice.vocab import UnknownTerm


def test_every_industry_class_maps_to_known_sectors(catalog):
    classes = catalog.sectors.industry
    assert {"C2710", "C2720", "C2730", "C2740", "C2761", "C2762", "C2770", "C2780", "C3581", "M73"} <= {
        c.code for c in classes}
    for c in classes:
        assert c.sectors, c.code
        assert set(c.sectors) <= set(catalog.sectors.terms), c.code


@pytest.mark.parametrize("label", ["C2761", "2761", "生物药品制造", "manufacture of biological medicines"])
def test_gbt_code_or_name_resolves_to_plan_sectors(catalog, label):
    assert {"sd.biologics", "bio.cell-gene-therapy"} <= catalog.sectors.resolve(label)


def test_group_covers_its_classes(catalog):
    group = catalog.sectors.resolve("C358")
    assert catalog.sectors.resolve("C3581") <= group and catalog.sectors.resolve("C3586") <= group


def test_unknown_label_names_the_closest(catalog):
    with pytest.raises(UnknownTerm) as info:
        catalog.sectors.require("细胞治了")
    assert "细胞治疗" in info.value.closest


@pytest.mark.parametrize("path", [
    "/search?sector=C2761",
    "/collections/yantai-biomed-1p3x/items?sector=生物药品制造",
    "/collections/yantai-biomed-1p3x/nearest?point=121.45,37.46&sector=C2762",
])
def test_every_sector_parameter_takes_gbt_labels(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert features
    wanted = client.app.state.service.catalog.sectors.resolve("C2762") | {"bio.innovative-drugs"}
    assert all(set(f["properties"]["sectors"]) & wanted for f in features)


@pytest.mark.parametrize("path", [
    "/search?sector=C2769x",
    "/collections/yantai-biomed-1p3x/items?sector=细胞治了",
    "/collections/yantai-biomed-1p3x/within?point=121.45,37.46&distance_km=10&sector=radiopharm",
])
def test_unknown_sector_is_400_with_closest_labels(client, path):
    response = client.get(path)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and "closest known labels" in body["description"]


def test_sectors_lists_the_industry_codes_and_resolves_them(client):
    listed = {c["code"]: c for c in client.get("/sectors").json()["industry_codes"]}
    assert listed["C2761"]["name_zh"] == "生物药品制造" and "sd.biologics" in listed["C2761"]["sectors"]
    body = client.get("/sectors/C2762").json()
    assert {"sd.biologics", "bio.cell-gene-therapy"} <= set(body["codes"])
    missing = client.get("/sectors/细胞治了")
    assert missing.status_code == 404 and "细胞治疗" in missing.json()["description"]
