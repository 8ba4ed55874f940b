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
from app.core.data.regression import DataFit, dataset_surface, minibatch_gradient, separable

__all__ = [
    "BUILTINS",
    "MAX_ABS_VALUE",
    "MAX_BYTES",
    "MAX_ROWS",
    "DataError",
    "DataFit",
    "Dataset",
    "dataset_surface",
    "digest",
    "get_builtin",
    "minibatch_gradient",
    "parse_csv",
    "separable",
    "suitable_kinds",
]
