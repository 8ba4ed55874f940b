"""Descent on a surface: optimizers, step-size schedules, the runner (with its compiled GD kernel),
batch runs over many starts (basins, sweeps) and the summary of a run in words.

What the rest of the app may import from this room is listed here; every other name is internal.
"""

from app.core.descent import compiled
from app.core.descent.batch import run_batch
from app.core.descent.catalogue import ETA, Bounds, Hyperparameter, OptimizerSpec
from app.core.descent.compiled import COMPILED_PRESETS
from app.core.descent.diagnosis import TAIL as DIAGNOSIS_TAIL
from app.core.descent.diagnosis import diagnose, path_shape
from app.core.descent.explore import BasinMap, Landmark, basins, indexed_landmarks, sweep
from app.core.descent.flow import MAX_EVALS as FLOW_MAX_EVALS
from app.core.descent.flow import Flow, FlowCurve, flow_distances, gradient_flow, run_times
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
    Resume,
    Trajectory,
    descend,
    run_to_end,
    trajectory,
)
from app.core.descent.schedules import CONSTANT, SCHEDULES, Schedule, make_schedule
from app.core.descent.stopping import (
    CONVERGED,
    DEFAULT_RULES,
    DIVERGED,
    MAX_ABS_LOSS,
    MAX_ABS_THETA,
    MAX_STEPS,
    STATUS_NAMES,
    LineSearch,
    Status,
    StopRules,
    stop_check,
)
from app.core.descent.summary import NearestMinimum, RunSummary, summarize

__all__ = [
    "CATALOGUE",
    "COMPILED_PRESETS",
    "CONSTANT",
    "CONVERGED",
    "DEFAULT_RULES",
    "DIVERGED",
    "MAX_ABS_LOSS",
    "MAX_ABS_THETA",
    "MAX_STEPS",
    "DIAGNOSIS_TAIL",
    "ETA",
    "FLOW_MAX_EVALS",
    "Flow",
    "FlowCurve",
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
    "Status",
    "StopRules",
    "Trajectory",
    "basins",
    "compiled",
    "descend",
    "diagnose",
    "flow_distances",
    "gradient_flow",
    "indexed_landmarks",
    "make_optimizer",
    "make_schedule",
    "path_shape",
    "run_batch",
    "run_times",
    "run_to_end",
    "state_from_dict",
    "state_to_dict",
    "stop_check",
    "summarize",
    "sweep",
    "trajectory",
]
