"""Requests and responses for basins of attraction and step-size sweeps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import (
    SURFACE_DOC,
    Coordinate,
    OptimizerParams,
    RunStatus,
    StrictModel,
    SurfaceSpec,
    Theta,
    Whole,
)

MAX_BASIN_N = 256
MAX_BASIN_STEPS = 2000
MAX_SWEEP_COUNT = 200
MAX_SWEEP_STEPS = 5000


class BasinsRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    optimizer: OptimizerParams | None = Field(None, description="Default: GD with the surface's η")
    n: Whole = Field(64, ge=8, le=MAX_BASIN_N, description="Starts per axis (n × n in all)")
    max_steps: Whole = Field(500, ge=1, le=MAX_BASIN_STEPS)
    tol: float = Field(1e-5, ge=0.0, le=1e6)
    xmin: Coordinate | None = None
    xmax: Coordinate | None = None
    ymin: Coordinate | None = None
    ymax: Coordinate | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"surface": "himmelblau", "optimizer": {"name": "gd", "eta": 0.01}, "n": 64}
            ]
        }
    )


class SweepRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    theta0: Theta | None = Field(None, description="Start point; default: the surface's")
    optimizer: OptimizerParams | None = Field(
        None, description="Optimizer and hyperparameters; its eta is replaced by the sweep's"
    )
    eta_min: float = Field(1e-3, gt=0.0, le=1e4)
    eta_max: float = Field(1.0, gt=0.0, le=1e4)
    count: Whole = Field(60, ge=2, le=MAX_SWEEP_COUNT, description="Step sizes, log-spaced")
    max_steps: Whole = Field(1000, ge=1, le=MAX_SWEEP_STEPS)
    tol: float = Field(1e-6, ge=0.0, le=1e6)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "surface": "quadratic",
                    "theta0": [-2.5, 2.0],
                    "eta_min": 0.01,
                    "eta_max": 3.0,
                    "count": 100,
                }
            ]
        }
    )


class LandmarkOut(BaseModel):
    x: float
    y: float
    value: float
    kind: str = Field(description="'global minimum', 'local minimum', 'saddle' or 'maximum'")


class BasinsProgress(BaseModel):
    type: Literal["progress"]
    done: float = Field(description="Share of starts finished, 0 … 1")


class BasinsResult(BaseModel):
    type: Literal["result"]
    x: list[float]
    y: list[float]
    destination: list[list[int]] = Field(
        description="[j][i] for the start (x[i], y[j]): index into `landmarks`, "
        "-1 if the run diverged, -2 if it did not converge"
    )
    steps: list[list[int]]
    landmarks: list[LandmarkOut]
    counts: dict[str, int] = Field(description="Cells per destination (landmark index, -1, -2)")


class SweepOut(BaseModel):
    eta: list[float]
    status: list[RunStatus]
    steps: list[int]
    final_loss: list[float]
    final_theta: list[list[float]]
    destination: list[int] = Field(
        description="Index into `landmarks`, -1 diverged, -2 not converged"
    )
    landmarks: list[LandmarkOut]
    stability_limit: float | None = Field(
        description="2/λ_max at the minimum reached with the smallest converging η (GD's limit)"
    )
    limit_minimum: int | None
