"""Descent on a surface: optimizers, step-size schedules, the runner (with its compiled GD kernel),
batch runs over many starts (basins, sweeps) and the summary of a run in words.

What the rest of the app may import from this room is listed here; every other name is internal.
"""

from app.core.descent import compiled
from app.core.descent.batch import STATUS_NAMES, run_batch
from app.core.descent.catalogue import ETA, Bounds, Hyperparameter, OptimizerSpec
from app.core.descent.compiled import COMPILED_PRESETS
from app.core.descent.explore import BasinMap, Landmark, basins, landmarks, sweep
from app.core.descent.optimizers import (
    CATALOGUE,
    MAX_ETA,
    OPTIMIZERS,
    STATE_TYPES,
    Optimizer,
    make_optimizer,
    state_from_dict,
    state_to_dict,
)
from app.core.descent.runner import (
    Iterate,
    LineSearch,
    Resume,
    StopRules,
    Trajectory,
    descend,
    run_to_end,
    trajectory,
)
from app.core.descent.schedules import CONSTANT, SCHEDULES, Schedule, make_schedule
from app.core.descent.summary import NearestMinimum, RunSummary, summarize

__all__ = [
    "CATALOGUE",
    "COMPILED_PRESETS",
    "CONSTANT",
    "ETA",
    "MAX_ETA",
    "OPTIMIZERS",
    "SCHEDULES",
    "STATE_TYPES",
    "STATUS_NAMES",
    "BasinMap",
    "Bounds",
    "Hyperparameter",
    "Iterate",
    "Landmark",
    "LineSearch",
    "NearestMinimum",
    "Optimizer",
    "OptimizerSpec",
    "Resume",
    "RunSummary",
    "Schedule",
    "StopRules",
    "Trajectory",
    "basins",
    "compiled",
    "descend",
    "landmarks",
    "make_optimizer",
    "make_schedule",
    "run_batch",
    "run_to_end",
    "state_from_dict",
    "state_to_dict",
    "summarize",
    "sweep",
    "trajectory",
]
