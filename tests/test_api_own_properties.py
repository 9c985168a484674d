"""Parameters never shadow properties: on a user's collection (served as an extra collection, as
`geoservice serve --collections FILE` does) whose queryables are named like the domain parameters
`sector`, `kind` and `q`, `?name=value` filters on the property; the plan layers keep the
vocabulary-aware meaning."""

from __future__ import annotations

import orjson
import pytest

YANTAI = (121.40, 37.54)


def _point(i: int, **properties) -> dict:
    return {"type": "Feature", "id": f"f{i}", "properties": properties,
            "geometry": {"type": "Point", "coordinates": [YANTAI[0] + i / 100, YANTAI[1]]}}


@pytest.fixture(scope="module")
def client(catalog, tmp_path_factory):
    from fastapi.testclient import TestClient

    from geoservice.api.app import create_app
    from geoservice.settings import PACKAGE_ROOT, Settings

    folder = tmp_path_factory.mktemp("extra")
    own = [_point(1, sector="Energy", kind="factory", q="north"),
           _point(2, sector="Retail", kind="shop", q="south"),
           _point(3, sector="Energy", kind="shop", q="south")]
    coded = [_point(1, kind="park"), _point(2, kind="hospital")]  # kind holds element-kind codes
    for name, features in (("own", own), ("coded", coded)):
        (folder / f"{name}.geojson").write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    (folder / "extra.yaml").write_text("- {id: own, title: Own properties, path: own.geojson}\n"
                                       "- {id: coded, title: Element kinds, path: coded.geojson}\n")
    app = create_app(Settings(data_dir=PACKAGE_ROOT / "data", extra_collections=folder / "extra.yaml"), catalog)
    with TestClient(app) as client:
        yield client


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["features"]]


@pytest.mark.parametrize("query, expected", [
    ("sector=Energy", ["f1", "f3"]),
    ("sector=Retail", ["f2"]),
    ("kind=shop", ["f2", "f3"]),
    ("q=south&sector=Energy", ["f3"]),
    ("sector=医用同位素", []),  # a vocabulary label is just a value here
])
def test_own_properties_are_filtered_on(client, query, expected):
    assert _ids(client.get(f"/collections/own/items?{query}")) == expected


def test_nearest_and_within_filter_on_own_properties(client):
    near = client.get(f"/collections/own/nearest?point={YANTAI[0]},{YANTAI[1]}&k=5&sector=Energy&kind=shop")
    assert _ids(near) == ["f3"]
    within = client.get(f"/collections/own/within?point={YANTAI[0]},{YANTAI[1]}&distance_km=50&kind=factory")
    assert _ids(within) == ["f1"]


def test_properties_holding_vocabulary_codes_translate_names(client):
    """A kind property of element-kind codes: a name or synonym means its code; an unknown one is a 400."""
    assert _ids(client.get("/collections/coded/items?kind=园区")) == ["f1"]
    assert _ids(client.get("/collections/coded/items?kind=hospital")) == ["f2"]
    bad = client.get("/collections/coded/items?kind=factory")
    assert bad.status_code == 400 and "kind: 'factory' is no known code" in bad.json()["description"]


def test_plan_layers_keep_the_vocabulary_meaning(client):
    """No `sector` property on the plan layers: sector= resolves names and children over `sectors`."""
    items = "/collections/yantai-isotopes/items?limit=1000"
    by_label = _ids(client.get(f"{items}&sector=医用同位素"))
    assert by_label and by_label == _ids(client.get(f"{items}&sector=Medical isotopes"))
    hospitals = _ids(client.get(f"{items}&kind=医院"))
    assert hospitals and hospitals == _ids(client.get(f"{items}&kind=hospital"))
    bad = client.get(f"{items}&sector=Energy")
    assert bad.status_code == 400 and "is no known code, name or synonym" in bad.json()["description"]
    near = client.get(f"/collections/yantai-isotopes/nearest?point={YANTAI[0]},{YANTAI[1]}&k=3&kind=医院")
    assert sorted(_ids(near)) == sorted(hospitals)


def test_unknown_parameters_are_still_refused(client):
    bad = client.get("/collections/own/items?colour=red")
    assert bad.status_code == 400 and "unknown parameter 'colour'" in bad.json()["description"]
