"""GET /api/optimizers: the optimizer catalogue, as the core declares it (the page builds its
controls from it)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.json import JSONResponse
from app.api.schemas import SCHEDULE_MODELS, LineSearchParams
from app.core.descent import CATALOGUE, ETA, Bounds, Hyperparameter, OptimizerSpec

router = APIRouter(prefix="/api/optimizers", tags=["optimizers"])


class EtaBoundsOut(BaseModel):
    min: float
    min_exclusive: bool = Field(description="True: η must be greater than `min`")
    max: float


class HyperparameterOut(BaseModel):
    name: str = Field(description="The field in a request's `optimizer` object")
    label: str = Field(description="In words")
    symbol: str | None = Field(description="In mathematics, e.g. μ; null where there is none")
    type: Literal["float", "bool"]
    default: float | bool
    min: float | None = Field(description="Null for a bool")
    max: float | None = Field(description="Null for a bool")
    min_exclusive: bool
    max_exclusive: bool
    torch_name: str | None = Field(description="The torch.optim argument, e.g. betas[0]")
    description: str


class OptimizerOut(BaseModel):
    name: str = Field(description="The `name` in a request's `optimizer` object")
    label: str
    summary: str = Field(description="One line")
    default_eta: float
    line_search: bool = Field(description="Takes a backtracking line search (`line_search`)")
    needs_hessian: bool
    torch: str | None = Field(description="The torch.optim class with the same formulas, if any")
    hyperparameters: list[HyperparameterOut] = Field(description="Besides η, in request order")


class SettingOut(BaseModel):
    name: str = Field(description="The field in the request object")
    type: Literal["int", "float"]
    default: float
    min: float | None
    max: float | None
    min_exclusive: bool
    max_exclusive: bool
    description: str | None


class ScheduleOut(BaseModel):
    name: str = Field(description="The `name` in a request's `optimizer.schedule` object")
    description: str
    parameters: list[SettingOut]


class CatalogueOut(BaseModel):
    eta: EtaBoundsOut = Field(description="Bounds of the step size η, the same for every optimizer")
    optimizers: list[OptimizerOut]
    schedules: list[ScheduleOut] = Field(description="Step-size schedules any optimizer takes")
    line_search: list[SettingOut] = Field(
        description="The parameters of `line_search` (Armijo backtracking), for optimizers whose "
        "`line_search` is true"
    )


def _bounds(bounds: Bounds | None) -> dict[str, Any]:
    if bounds is None:
        return {"min": None, "max": None, "min_exclusive": False, "max_exclusive": False}
    return {
        "min": bounds.min,
        "max": bounds.max,
        "min_exclusive": bounds.min_exclusive,
        "max_exclusive": bounds.max_exclusive,
    }


def hyperparameter_to_dict(h: Hyperparameter) -> dict[str, Any]:
    return {
        "name": h.name,
        "label": h.label,
        "symbol": h.symbol,
        "type": h.type,
        "default": h.default,
        **_bounds(h.bounds),
        "torch_name": h.torch_name,
        "description": h.description,
    }


def optimizer_to_dict(spec: OptimizerSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "label": spec.label,
        "summary": spec.summary,
        "default_eta": spec.default_eta,
        "line_search": spec.line_search,
        "needs_hessian": spec.needs_hessian,
        "torch": spec.torch,
        "hyperparameters": [hyperparameter_to_dict(h) for h in spec.hyperparameters],
    }


def settings_of(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A request model's numeric fields with their defaults and bounds, read from the JSON schema
    the API validates with (so the page and the API cannot disagree)."""
    schema = model.model_json_schema()
    out = []
    for name, field in schema["properties"].items():
        if field.get("type") not in ("integer", "number"):
            continue
        out.append(
            {
                "name": name,
                "type": "int" if field["type"] == "integer" else "float",
                "default": field["default"],
                "min": field.get("minimum", field.get("exclusiveMinimum")),
                "max": field.get("maximum", field.get("exclusiveMaximum")),
                "min_exclusive": "exclusiveMinimum" in field,
                "max_exclusive": "exclusiveMaximum" in field,
                "description": field.get("description"),
            }
        )
    return out


def schedule_to_dict(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "name": model.model_fields["name"].annotation.__args__[0],  # type: ignore[union-attr]
        "description": (model.__doc__ or "").strip(),
        "parameters": settings_of(model),
    }


CATALOGUE_JSON: dict[str, Any] = {
    "eta": {"min": ETA.min, "min_exclusive": ETA.min_exclusive, "max": ETA.max},
    "optimizers": [optimizer_to_dict(spec) for spec in CATALOGUE],
    "schedules": [schedule_to_dict(model) for model in SCHEDULE_MODELS],
    "line_search": settings_of(LineSearchParams),
}

_EXAMPLE = {
    "eta": CATALOGUE_JSON["eta"],
    "optimizers": [optimizer_to_dict(spec) for spec in CATALOGUE if spec.name in ("gd", "adam")],
    "schedules": CATALOGUE_JSON["schedules"][:2],
    "line_search": CATALOGUE_JSON["line_search"],
}


@router.get(
    "",
    response_model=CatalogueOut,
    summary="The optimizers and their hyperparameters",
    responses={200: {"content": {"application/json": {"example": _EXAMPLE}}}},
)
def list_optimizers() -> JSONResponse:
    """Every optimizer a request's `optimizer` may name, in the page's order, with its default η,
    whether it takes a line search or needs the Hessian, and each hyperparameter's label, symbol,
    default, bounds (as the request models enforce them) and torch.optim name."""
    return JSONResponse(CATALOGUE_JSON)
