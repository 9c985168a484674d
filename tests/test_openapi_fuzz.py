"""The API definition at /api: a valid OpenAPI 3.0 document, and a bounded property-based fuzz.

schemathesis generates requests for every operation from the document itself and calls the
ASGI app in process; no response may be a 5xx or contradict the document (status codes,
media types, response schemas, headers). The run is bounded: FUZZ_EXAMPLES examples per
operation (environment variable GEOSERVICE_FUZZ_EXAMPLES, default 25; the whole file stays
well under a minute on the CI machine).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geoservice.settings import PACKAGE_ROOT

FUZZ_EXAMPLES = int(os.environ.get("GEOSERVICE_FUZZ_EXAMPLES", "25"))
EXTRA = Path(__file__).parent / "data" / "ne_110m.yaml"
OGC_DATA = PACKAGE_ROOT.parent / "shared" / "testdata" / "ne_110m"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.fixture(scope="module")
def fuzz_app(catalog):
    """The application over the committed data, plus the OGC test collections when present."""
    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    extra = EXTRA if OGC_DATA.is_dir() else None
    return create_app(Settings(data_dir=PACKAGE_ROOT / "data", extra_collections=extra), catalog)


@pytest.fixture(scope="module")
def api_document(fuzz_app) -> dict:
    """The OpenAPI document as the service serves it at /api."""
    from fastapi.testclient import TestClient

    response = TestClient(fuzz_app).get("/api", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_the_api_document_is_valid_openapi_30(api_document) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    assert api_document["openapi"].startswith("3.0.")
    try:
        validate(api_document)
    except OpenAPIValidationError as exc:  # pragma: no cover - the message is the diagnosis
        pytest.fail(f"/api is not valid OpenAPI 3.0: {exc}")


def test_every_route_is_documented(fuzz_app, api_document) -> None:
    from fastapi.routing import APIRoute

    documented = set(api_document["paths"])
    routes = {r.path for r in fuzz_app.routes if isinstance(r, APIRoute) and r.include_in_schema}
    assert routes <= documented


def _with_known_ids(document: dict, fuzz_app) -> dict:
    """Let the generator reach real collections and features, not only 404s: the path parameters
    collection_id and feature_id also take the ids the service holds (as examples)."""
    doc = copy.deepcopy(document)
    catalog = fuzz_app.state.service.catalog
    collection_ids = list(catalog.collections)
    feature_ids = [str(catalog[cid].frame["id"].iloc[0]) for cid in collection_ids if len(catalog[cid].frame)]
    for operations in doc["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "path":
                    continue
                if parameter["name"] == "collection_id":
                    parameter["schema"] = {"type": "string", "enum": collection_ids}
                elif parameter["name"] == "feature_id":
                    parameter["schema"] = {"type": "string", "enum": feature_ids}
    return doc


@pytest.fixture(scope="module")
def api_schema(fuzz_app, api_document):
    """The document loaded by schemathesis, calling the ASGI app in process."""
    schema = schemathesis.openapi.from_dict(_with_known_ids(api_document, fuzz_app))
    schema.app = fuzz_app
    return schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_fuzz_no_5xx_and_responses_match_the_document(api_schema, mode: GenerationMode) -> None:
    """Every operation, FUZZ_EXAMPLES generated requests each (valid ones, then invalid ones)."""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def fuzz(case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters)
            continue
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
