"""Property-based API test: schemathesis generates requests from the OpenAPI schema (valid and
invalid, deterministically, a bounded number per operation) and checks that no response is a 5xx
and every response matches its documented schema."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app.main import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    excluded = []
    if case.operation.path.endswith(("/grid", "/field", "/basins", "/sweep")):
        # OpenAPI cannot say "xmin < xmax" or "eta_min < eta_max": an empty range is rightly
        # refused with a 422.
        excluded.append(positive_data_acceptance)
    body = case.body if isinstance(case.body, dict) else {}
    if case.operation.path == "/api/expressions" or isinstance(body.get("surface"), dict):
        # Nor "this string is a formula" (nor "min < max" of its domain): a random string is
        # rightly refused with a 422 that says where it stops being one.
        excluded.append(positive_data_acceptance)
    if body.get("batch_size") is not None or case.operation.path == "/api/datasets":
        # Nor "batch_size needs a dataset surface", nor "this text is a CSV of numbers".
        excluded.append(positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)
