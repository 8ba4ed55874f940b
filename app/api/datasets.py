"""Dataset surfaces at the API edge: a request's description → core Surface, and back to JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import HTTPException

from app.api.dataset_schemas import DatasetSurface
from app.core.data import DataError, DataFit, Dataset, dataset_surface, get_builtin
from app.core.surfaces import Surface


def resolve_dataset(spec: DatasetSurface) -> Surface:
    """The loss surface a DatasetSurface describes; 422 explains data that do not suit the model."""
    builtin: Dataset | None = None
    if spec.dataset is not None:
        builtin = get_builtin(spec.dataset)
        x, y = builtin.x, builtin.y
        if spec.kind not in builtin.kinds:
            raise HTTPException(
                422,
                f"surface.dataset: {spec.dataset!r} does not suit {spec.kind} regression (its y "
                f"are not labels 0 and 1); it suits {', '.join(builtin.kinds)}",
            )
    else:
        assert spec.data is not None
        x = np.asarray(spec.data.x, dtype=np.float64)
        y = np.asarray(spec.data.y, dtype=np.float64)
    try:
        return dataset_surface(
            spec.kind, x, y, l2=spec.l2, standardize=spec.standardize, dataset=builtin
        )
    except DataError as exc:
        raise HTTPException(422, f"surface.data: {exc.message}") from None


def fit_to_dict(fit: DataFit | None) -> dict[str, Any] | None:
    if fit is None:
        return None
    raw = None
    if fit.optimum is not None:
        w, b = fit.optimum
        raw = [w / fit.scale, b - w * fit.shift / fit.scale]
    return {
        "kind": fit.kind,
        "dataset": fit.dataset,
        "n": int(fit.x.size),
        "x": fit.x,
        "y": fit.y,
        "l2": fit.l2,
        "standardized": fit.standardized,
        "shift": fit.shift,
        "scale": fit.scale,
        "optimum": list(fit.optimum) if fit.optimum is not None else None,
        "optimum_raw": raw,
        "digest": fit.digest,
    }


def dataset_to_dict(d: Dataset) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.name,
        "description": d.description,
        "kind": d.kind,
        "kinds": list(d.kinds),
        "n": int(d.x.size),
        "x": d.x,
        "y": d.y,
    }


__all__ = ["DataError", "dataset_to_dict", "fit_to_dict", "resolve_dataset"]
