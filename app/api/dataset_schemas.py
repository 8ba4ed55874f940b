"""Request and response models of dataset surfaces (issue 4): the loss of a 1-D model on data.

A dataset surface is described by an object, `{"kind": "logistic", "dataset": "overlap"}` or
`{"kind": "linear", "data": {"x": [...], "y": [...]}}`, accepted wherever a surface is (descent,
stream, grid, describe). The data travel in the request: no server-side state.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.core.data import BUILTINS, MAX_ABS_VALUE, MAX_ROWS

DatasetId = Literal["overlap", "separable", "study_minutes", "trend", "house_prices"]
ModelKind = Literal["logistic", "linear"]
MAX_L2 = 1e3

Value = Annotated[float, Field(ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)]
Values = Annotated[list[Value], Field(min_length=2, max_length=MAX_ROWS)]


class _Strict(BaseModel):
    # Same rules as schemas.StrictModel (not imported: schemas imports this module).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class DataIn(_Strict):
    """Points (x[i], y[i]): at most 10,000, |values| ≤ 1e6; for logistic, y[i] is 0 or 1."""

    x: Values
    y: Values

    @model_validator(mode="after")
    def _same_length(self) -> DataIn:
        if len(self.x) != len(self.y):
            raise PydanticCustomError(
                "data_length",
                "x and y need the same length (got {nx} and {ny} values)",
                {"nx": len(self.x), "ny": len(self.y)},
            )
        return self


class DatasetSurface(_Strict):
    """The loss over θ = (w, b) of a model on data: `logistic` is the mean binary cross-entropy
    of σ(w·x + b) (labels y ∈ {0, 1}), `linear` the mean squared error of w·x + b; both plus
    (λ/2)·w² with λ = `l2` (b is not penalised). Give a built-in `dataset` or inline `data`."""

    kind: ModelKind = Field(description="The model: logistic or linear regression")
    dataset: DatasetId | None = Field(None, description="A built-in dataset (GET /api/datasets)")
    data: DataIn | None = Field(None, description="Inline points, e.g. from POST /api/datasets")
    l2: float = Field(0.0, ge=0.0, le=MAX_L2, description="L2 penalty λ on w (not on b)")
    standardize: bool = Field(
        False, description="Fit on u = (x − mean x) / std x instead of x: rounds the surface"
    )

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSurface:
        if (self.dataset is None) == (self.data is None):
            raise PydanticCustomError(
                "dataset_source",
                "give exactly one of `dataset` (a built-in id) and `data` (inline x and y)",
            )
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "logistic", "dataset": "overlap", "l2": 0.0, "standardize": False},
                {"kind": "linear", "data": {"x": [0, 1, 2, 3], "y": [0.1, 0.9, 2.2, 2.8]}},
            ]
        }
    )


def surface_tag(value: Any) -> str | None:
    """Which kind of surface description a request holds: a preset id, a dataset loss (has
    `kind`) or a formula (any other object)."""
    if isinstance(value, str):
        return "preset"
    if isinstance(value, dict):
        return "dataset" if "kind" in value else "formula"
    if isinstance(value, BaseModel):
        return "dataset" if isinstance(value, DatasetSurface) else "formula"
    return None


# --- responses -------------------------------------------------------------------------------


class DataFitOut(BaseModel):
    """The data behind a dataset surface and how to draw the model at θ = (w, b) over it.

    With u = (x − shift) / scale, the model is σ(w·u + b) (logistic) or w·u + b (linear);
    shift = 0 and scale = 1 unless the surface was built on standardized x."""

    kind: ModelKind
    dataset: str | None = Field(description="The built-in's id, or null for inline data")
    n: int
    x: list[float] = Field(description="The raw x, as given")
    y: list[float]
    l2: float
    standardized: bool
    shift: float = Field(description="mean x if standardized, else 0")
    scale: float = Field(description="std x if standardized, else 1")
    optimum: list[float] | None = Field(
        description="θ* = [w, b] in the surface's coordinates; null if there is no finite minimum"
    )
    optimum_raw: list[float] | None = Field(
        description="θ* for the raw x: [w / scale, b − w·shift / scale]"
    )
    digest: str = Field(description="SHA-256 of the data: equal data, equal digest")


class DatasetOut(BaseModel):
    id: str
    name: str
    description: str = Field(description="What the data teach, in one sentence")
    kind: ModelKind = Field(description="The model the data were made for")
    kinds: list[ModelKind] = Field(description="Every model the data suit")
    n: int
    x: list[float]
    y: list[float]


class UploadOut(BaseModel):
    n: int = Field(description="Data rows read")
    x: list[float]
    y: list[float]
    kinds: list[ModelKind] = Field(description="Models the data suit (logistic needs labels 0/1)")
    header: list[str] | None = Field(description="The header row, if the file had one")
    digest: str = Field(description="SHA-256 of the data")


assert set(get_args(DatasetId)) == set(BUILTINS), "DatasetId must list the built-in datasets"
