"""Models on data: datasets (built-in and CSV), their losses, and the regression surfaces over them.

What the rest of the app may import from this room is listed here; every other name is internal.
"""

from app.core.data.datasets import (
    BUILTINS,
    MAX_ABS_VALUE,
    MAX_BYTES,
    MAX_ROWS,
    DataError,
    Dataset,
    digest,
    get_builtin,
    parse_csv,
    suitable_kinds,
)
from app.core.data.noise import Cloud, NoiseError, ellipse, measured, noise_scale, predict_cloud
from app.core.data.regression import DataFit, dataset_surface, minibatch_gradient, separable
from app.core.data.sampling import SAMPLINGS, Batches, Sampling, batch_factor

__all__ = [
    "BUILTINS",
    "MAX_ABS_VALUE",
    "MAX_BYTES",
    "MAX_ROWS",
    "SAMPLINGS",
    "Batches",
    "Cloud",
    "DataError",
    "DataFit",
    "Dataset",
    "NoiseError",
    "Sampling",
    "batch_factor",
    "dataset_surface",
    "digest",
    "ellipse",
    "get_builtin",
    "measured",
    "minibatch_gradient",
    "noise_scale",
    "parse_csv",
    "predict_cloud",
    "separable",
    "suitable_kinds",
]
