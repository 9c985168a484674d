"""The API definition at /api: FastAPI's document, expressed as OpenAPI 3.0 (OGC's oas30 class).

FastAPI emits OpenAPI 3.1 (JSON Schema 2020-12); the only 3.1 construct it uses for our
routes is `anyOf: [X, {type: null}]` for optional parameters, which 3.0 writes `nullable`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

OPENAPI_VERSION = "3.0.3"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}, "status": {"type": "integer"}},
}


def _to_30(node: Any) -> Any:
    """Rewrite 3.1-only schema constructs into their 3.0 forms."""
    if isinstance(node, list):
        return [_to_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _to_30(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        nulls = ({"type": "null"}, {"nullable": True})  # children are rewritten first
        if isinstance(options, list) and any(o in nulls for o in options):
            rest = [o for o in options if o not in nulls]
            node.pop(key)
            node.update(rest[0] if len(rest) == 1 else {key: rest})
            node["nullable"] = True
    if "examples" in node and isinstance(node["examples"], list) and "in" not in node:
        node["example"] = node.pop("examples")[0]
    if node.get("type") == "null":
        node = {"nullable": True}
    return node


def openapi_document(app: FastAPI) -> dict:
    """Return the OpenAPI 3.0 document of the app (built once, then cached on the app)."""
    if getattr(app.state, "openapi_30", None) is None:
        doc = _to_30(app.openapi())
        doc["openapi"] = OPENAPI_VERSION
        doc.setdefault("components", {}).setdefault("schemas", {})["Exception"] = ERROR_SCHEMA
        for path in doc["paths"].values():
            for op in path.values():
                op.setdefault("responses", {})
                for status, text in (("400", "Invalid parameter or filter"), ("404", "Not found"),
                                     ("406", "Format not offered")):
                    op["responses"].setdefault(status, {
                        "description": text,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Exception"}}},
                    })
                op["responses"].pop("422", None)  # we answer 400, not FastAPI's 422
        doc["components"]["schemas"].pop("HTTPValidationError", None)
        doc["components"]["schemas"].pop("ValidationError", None)
        app.state.openapi_30 = doc
    return app.state.openapi_30
