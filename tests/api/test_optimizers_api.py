"""GET /api/optimizers against what the request models enforce, what the core accepts and what
torch.optim declares."""

from __future__ import annotations

import importlib
import inspect
import json
import math
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from app.api.schemas import OptimizerParams
from app.core.descent import make_optimizer

ORDER = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton"]
NOT_HYPERPARAMETERS = {"name", "eta", "schedule", "line_search"}


@pytest.fixture(scope="module")
def catalogue(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/optimizers")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def request_schemas(client: TestClient) -> dict[str, dict[str, Any]]:
    """Each optimizer's request model, as the OpenAPI document describes it, by name."""
    components = client.get("/openapi.json").json()["components"]["schemas"]
    models = {}
    for schema in components.values():
        name = schema.get("properties", {}).get("name", {}).get("const")
        if schema.get("title", "").endswith("Params") and name is not None:
            models[name] = schema
    return models


def test_lists_every_optimizer_in_the_page_order(catalogue, request_schemas) -> None:
    assert [o["name"] for o in catalogue["optimizers"]] == ORDER
    assert set(request_schemas) == set(ORDER)


def test_eta_bounds_and_defaults_are_the_request_models(catalogue, request_schemas) -> None:
    eta = catalogue["eta"]
    for o in catalogue["optimizers"]:
        prop = request_schemas[o["name"]]["properties"]["eta"]
        assert prop["default"] == o["default_eta"]
        assert prop["exclusiveMinimum" if eta["min_exclusive"] else "minimum"] == eta["min"]
        assert prop["maximum"] == eta["max"]
    assert {o["name"]: o["default_eta"] for o in catalogue["optimizers"]}["newton"] == 1.0


def test_hyperparameters_are_the_request_models_fields(catalogue, request_schemas) -> None:
    for o in catalogue["optimizers"]:
        properties = request_schemas[o["name"]]["properties"]
        assert [h["name"] for h in o["hyperparameters"]] == [
            p for p in properties if p not in NOT_HYPERPARAMETERS
        ]
        assert o["line_search"] == ("line_search" in properties)
        for h in o["hyperparameters"]:
            prop = properties[h["name"]]
            assert prop["default"] == h["default"], (o["name"], h["name"])
            if h["type"] == "bool":
                assert prop["type"] == "boolean"
                assert h["min"] is None and h["max"] is None
                continue
            assert prop["type"] == "number"
            low = "exclusiveMinimum" if h["min_exclusive"] else "minimum"
            high = "exclusiveMaximum" if h["max_exclusive"] else "maximum"
            assert prop.get(low) == h["min"] and prop.get(high) == h["max"], (o["name"], h)
            assert not {"minimum", "exclusiveMinimum"} - {low} & set(prop)
            assert not {"maximum", "exclusiveMaximum"} - {high} & set(prop)


def _edges(h: dict[str, Any]) -> list[tuple[float, bool]]:
    """Values at and just beyond each bound, with whether the bound admits them."""
    out = []
    for bound, exclusive, outward in (
        (h["min"], h["min_exclusive"], -math.inf),
        (h["max"], h["max_exclusive"], math.inf),
    ):
        out += [(bound, not exclusive), (math.nextafter(bound, outward), False)]
        out.append((math.nextafter(bound, -outward), True))
    return out


def test_the_request_model_and_the_core_enforce_the_listed_bounds(catalogue) -> None:
    """At each bound, just inside and just outside: the API and make_optimizer agree with the
    catalogue on what is allowed."""
    adapter = TypeAdapter(OptimizerParams)
    for o in catalogue["optimizers"]:
        eta = catalogue["eta"]
        cases = [("eta", v, ok) for v, ok in _edges({**eta, "max_exclusive": False})]
        cases += [
            (h["name"], v, ok)
            for h in o["hyperparameters"]
            if h["type"] == "float"
            for v, ok in _edges(h)
        ]
        for field, value, ok in cases:
            body = {"name": o["name"], field: value}
            try:
                adapter.validate_python(body)
                api_ok = True
            except ValidationError:
                api_ok = False
            try:
                make_optimizer(o["name"], **{field: value})
                core_ok = True
            except ValueError as exc:
                assert f"Invalid {field}: {value!r}" in str(exc)
                core_ok = False
            assert (api_ok, core_ok) == (ok, ok), (o["name"], field, value)


def test_make_optimizer_accepts_every_default(catalogue) -> None:
    for o in catalogue["optimizers"]:
        values = {h["name"]: h["default"] for h in o["hyperparameters"]}
        optimizer = make_optimizer(o["name"], eta=o["default_eta"], **values)
        assert optimizer == make_optimizer(o["name"])
        assert {k: getattr(optimizer, k) for k in values} == values


def test_torch_names_and_defaults_are_torch_optims(catalogue) -> None:
    """Each torch name is an argument of the listed torch.optim class, with the same default
    (but for momentum in SGD, where torch's default 0 means plain GD)."""
    pytest.importorskip("torch")
    for o in catalogue["optimizers"]:
        if o["torch"] is None:
            assert all(h["torch_name"] is None for h in o["hyperparameters"])
            continue
        module, _, name = o["torch"].rpartition(".")
        parameters = inspect.signature(getattr(importlib.import_module(module), name)).parameters
        for h in o["hyperparameters"]:
            argument, _, index = h["torch_name"].partition("[")
            default = parameters[argument].default
            if index:
                default = default[int(index.rstrip("]"))]
            if o["torch"] == "torch.optim.SGD" and argument == "momentum":
                assert default == 0 and h["default"] > 0
            else:
                assert default == h["default"], (o["name"], h["name"])


def test_the_endpoint_is_documented_with_an_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/optimizers"]["get"]
    assert operation["tags"] == ["optimizers"]
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert [o["name"] for o in example["optimizers"]] == ["gd", "adam"]


SNAPSHOT = Path(__file__).parent / "snapshots" / "optimizer_models.json"


def test_generated_request_models_are_the_hand_written_ones(client: TestClient) -> None:
    """The optimizers' request models, now generated from the catalogue, have exactly the OpenAPI
    schema (field order included) of the hand-written models they replaced: the snapshot was taken
    from the app before the change. `schedule` is left out: it is not the catalogue's."""
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    components = client.get("/openapi.json").json()["components"]["schemas"]
    actual = {}
    for name in expected["components"]:
        schema = dict(components[name])
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "schedule"}
        actual[name] = schema
    assert json.dumps(actual, ensure_ascii=False) == json.dumps(
        expected["components"], ensure_ascii=False
    )
    optimizer = components["DescentRequest"]["properties"]["optimizer"]
    assert optimizer == expected["DescentRequest.optimizer"]
