"""Property-based API test: schemathesis generates requests from the OpenAPI schema (valid and
invalid, deterministically, a bounded number per operation) and checks that no response is a 5xx
and every response matches its documented schema."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app.api import budget
from app.main import create_app

# A network request the schema allows may cost up to the whole work budget (~24 s); here each one
# gets a budget of 0.05 s, so the heavy ones are refused with their 422 instead of run.
NETWORK_BUDGET_SECONDS = 0.05

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
    if case.operation.path.startswith("/api/networks/"):
        # Nor "θ₀ has as many numbers as the network has parameters", "batch_size ≤ the data's
        # points", "through ≤ the last step", nor the work budget (lowered here, see above).
        excluded.append(positive_data_acceptance)
        full_budget = budget.BUDGET_SECONDS
        budget.BUDGET_SECONDS = NETWORK_BUDGET_SECONDS
        try:
            case.call_and_validate(excluded_checks=excluded)
        finally:
            budget.BUDGET_SECONDS = full_budget
        return
    case.call_and_validate(excluded_checks=excluded)
