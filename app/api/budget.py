"""Work caps that hold: what a request will cost, estimated before it runs, and a deadline while
it runs.

A request's cost is starts × steps × (the cost of one step), where a step costs the optimizer's
update plus the evaluations it makes: L and ∇L once, L again for each trial of a line search,
the Hessian for Newton's method. What one evaluation costs is measured on the surface itself
(app/core/surfaces/cost.py: a formula's compiled derivatives, a logistic loss over its data
points), or for a preset read from a table, so the estimate follows what actually drives the
work. A request estimated above BUDGET_SECONDS of CPU time is refused with a 422 that says what
to reduce; one that runs past WALL_SECONDS anyway (a line search that shrinks more than
expected, a machine under load) is stopped and says so.

Every constant below was measured on this machine (CPU time); they are kept here and nowhere
else. `benchmarks/budget.py` checks the estimates against measured runs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from fastapi import HTTPException

from app.api.schemas import OptimizerParams
from app.core.surfaces import PRESETS, EvaluationCost, Surface, evaluation_cost

# ~20 s of CPU is the intended limit of one request. The estimates run about 20 % high (their
# evaluation costs are measured with L and ∇L together, and on a shared machine), and the
# costliest request the field caps allow on a preset (a 256² basin map of 2,000 GD steps on
# Rastrigin, 16.6 s measured) must fit: hence 24.
BUDGET_SECONDS = 24.0
WALL_SECONDS = 45.0  # a request still running after this long on the wall clock is stopped
CHUNK_SECONDS = 0.1  # a basin map is computed in chunks of about this much work

# Per step of a batch run (basins, sweep), whatever the number of starts: the stop rules' screen
# and the bookkeeping (µs).
BATCH_STEP_US = 130.0
# Per start and step of a batch run, beyond the evaluations: the optimizer's update (ns).
BATCH_UPDATE_NS = {"gd": 40.0, "other": 80.0, "newton": 160.0}
# Per start and line-search trial of a batch run, beyond the evaluation of L: selecting the
# starts still searching and their trial points (ns).
BATCH_TRIAL_NS = 100.0
# Per step of a single run on Python floats, beyond the evaluations (µs): plain GD with a
# constant η (compiled on most presets), any other optimizer, schedule or line search, Newton.
SINGLE_STEP_US = {"gd": 1.5, "other": 16.0, "newton": 35.0}
# One evaluation on a preset: the costliest preset's figures (Rastrigin's, Beale's Hessian), as
# app/core/surfaces/cost.py measures them. Fixed rather than measured at start-up, so that a
# preset request is accepted or refused the same way on every start; formulas and dataset
# losses, which no table can know, are measured when first used.
PRESET_COST = EvaluationCost(
    value_ns=65.0,
    grad_ns=125.0,
    hess_ns=65.0,
    scalar_us=5.0,
    scalar_value_us=2.5,
    scalar_hess_us=2.5,
)
# A backtracking line search tries η, η·shrink, η·shrink², … until Armijo's condition holds (at
# most 60 trials). Expected trials: as many as it takes to shrink η a thousandfold, + 1.
LINE_SEARCH_RANGE = 1e-3
MAX_TRIALS = 60


@dataclass(frozen=True)
class Work:
    """What drives a request's cost."""

    starts: int  # runs at once (1 for a single run, n² for a basin map, count for a sweep)
    steps: int  # max_steps
    kind: str  # "gd", "other" or "newton" (see SINGLE_STEP_US)
    trials: float  # line-search evaluations of L per step (0 without a line search)
    batch: bool  # vectorised over the starts (basins, sweep) or one run on Python floats


def optimizer_kind(params: OptimizerParams | None) -> str:
    if params is None:
        return "gd"
    if params.name == "newton":
        return "newton"
    plain = params.name == "gd" and params.schedule is None
    return "gd" if plain and getattr(params, "line_search", None) is None else "other"


def line_search_trials(params: OptimizerParams | None) -> float:
    search = getattr(params, "line_search", None)
    if search is None:
        return 0.0
    shrink = search.shrink
    return min(MAX_TRIALS, math.ceil(math.log(LINE_SEARCH_RANGE) / math.log(shrink))) + 1.0


def work(params: OptimizerParams | None, starts: int, steps: int, *, batch: bool) -> Work:
    return Work(starts, steps, optimizer_kind(params), line_search_trials(params), batch)


def _cost(surface: Surface) -> EvaluationCost:
    return PRESET_COST if PRESETS.get(surface.id) is surface else evaluation_cost(surface)


def step_seconds(surface: Surface, w: Work) -> float:
    """Estimated CPU seconds of one step of all the starts."""
    cost = _cost(surface)
    if w.batch:
        per_start = BATCH_UPDATE_NS[w.kind] + cost.grad_ns
        per_start += w.trials * (cost.value_ns + BATCH_TRIAL_NS)
        if w.kind == "newton":
            per_start += cost.hess_ns
        return BATCH_STEP_US * 1e-6 + w.starts * per_start * 1e-9
    per_step = SINGLE_STEP_US[w.kind] + cost.scalar_us + w.trials * cost.scalar_value_us
    if w.kind == "newton":
        per_step += cost.scalar_hess_us
    return w.starts * per_step * 1e-6


def estimate_seconds(surface: Surface, w: Work) -> float:
    return w.steps * step_seconds(surface, w)


def _over(what: str, seconds: float, reduce: str) -> HTTPException:
    return HTTPException(
        422,
        f"{what} would take about {seconds:,.0f} s of CPU time, above this server's budget of "
        f"{BUDGET_SECONDS:g} s per request: {reduce}",
    )


def check_run(surface: Surface, w: Work, what: str, starts_field: str | None = None) -> float:
    """The estimated seconds of a run; 422 naming the budget and what to reduce if it is over."""
    seconds = estimate_seconds(surface, w)
    if seconds <= BUDGET_SECONDS:
        return seconds
    max_steps = int(BUDGET_SECONDS / step_seconds(surface, w))
    options = [f"max_steps ≤ {max_steps:,}"] if max_steps >= 1 else []
    if starts_field == "n":
        n = math.isqrt(int(w.starts * BUDGET_SECONDS / seconds))
        options.append(f"n ≤ {n}" if n >= 1 else "a smaller n")
    elif starts_field is not None:
        options.append(f"a smaller {starts_field}")
    if w.trials:
        options.append("no line search, or a smaller shrink")
    if w.kind == "newton":
        options.append("an optimizer other than Newton's method")
    detail = (
        f"{w.starts:,} start{'s' if w.starts != 1 else ''} × {w.steps:,} steps"
        + (f" × ~{w.trials:g} line-search trials" if w.trials else "")
        + f" on {surface.name}"
    )
    raise _over(f"{what} ({detail})", seconds, "use " + ", or ".join(options))


def check_grid(surface: Surface, n: int, gradient: bool, what: str) -> None:
    """422 if sampling the surface (or its gradient) on an n × n grid is over the budget."""
    cost = _cost(surface)
    per_point = cost.grad_ns if gradient else cost.value_ns
    seconds = n * n * per_point * 1e-9
    if seconds > BUDGET_SECONDS:
        largest = math.isqrt(int(BUDGET_SECONDS / (per_point * 1e-9)))
        raise _over(f"{what} ({n} × {n} points on {surface.name})", seconds, f"use n ≤ {largest}")


class Stopped(Exception):
    """A run was stopped while running: its client left, or it passed its wall-clock limit."""


class Deadline:
    """The wall-clock limit of one request, and its cancellation (a client that left).

    `check()` raises Stopped once either happened: a batch run calls it after every step, a
    single run between chunks of iterates."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = WALL_SECONDS if seconds is None else seconds  # read now: tests lower it
        self.ends = time.monotonic() + self.seconds
        # A plain flag, not a threading.Event (a few µs to create, on every request): one thread
        # sets it and another reads it, and nothing waits on it.
        self.cancelled = False

    def check(self, *_: object) -> None:
        if self.cancelled:
            raise Stopped("the client disconnected")
        if time.monotonic() > self.ends:
            raise Stopped(
                f"it ran past {self.seconds:g} s, this server's limit on one request (the "
                "machine may be busy, or the run needs more work than estimated): use fewer "
                "starts or steps"
            )

    def cancel(self) -> None:
        self.cancelled = True


def stopped_error(exc: Stopped) -> HTTPException:
    return HTTPException(422, f"The run was stopped: {exc}")


# --- networks (issue 18) ---------------------------------------------------------------------
# One evaluation of a network's loss on its data costs about a fixed overhead plus a part in
# points × parameters (the matrix products) and a part in points × hidden units (the
# activations). Measured here on one thread (benchmark-style, CPU time) over moons 500 × 354
# parameters, Chebyshev 20 × 97, moons 2,000 × 4,482 and spirals 500 × 33,666: the figures
# below are at or above every measurement (up to 2.7× above on the largest network), so an
# estimate errs on the side of refusing. `benchmarks/network_budget.py` checks them against
# measured runs and slices (ratios 0.96–1.7 here; a line search is estimated at ~11 trials a
# step whatever it takes, as for the 2-D runs).
NET_EVAL_US = 250.0  # fixed cost of L and ∇L (µs)
NET_PP_NS = 1.5  # per point × parameter, L and ∇L (ns)
NET_PU_NS = 30.0  # per point × hidden unit, L and ∇L (ns)
NET_VALUE_SHARE = 0.6  # L alone (a line-search trial) against L and ∇L
NET_HVP_SHARE = 1.3  # a Hessian-vector product (one Lanczos iteration) against L and ∇L
NET_STEP_US = 60.0  # an optimizer's update and the bookkeeping of one step (µs), plus:
NET_STEP_PARAM_NS = 20.0  # per parameter (ns)
NET_GRID_PP_NS = 1.0  # one point of a slice's grid, per data point × parameter (ns)
NET_GRID_PU_NS = 20.0  # and per data point × hidden unit (ns)


@dataclass(frozen=True)
class NetworkWork:
    """What drives the cost of a network request."""

    params: int
    points: int
    units: int  # hidden units, summed over the layers
    steps: int
    batch: int | None  # minibatch size (None: full batch)
    trials: float  # line-search evaluations of L per step
    sharpness_every: int
    lanczos: int
    grid: int = 0  # points of a slice's grid (m²)


def _net_eval_seconds(params: int, points: int, units: int) -> float:
    return (NET_EVAL_US * 1e3 + points * (params * NET_PP_NS + units * NET_PU_NS)) * 1e-9


def network_step_seconds(w: NetworkWork) -> float:
    """One training step: L and ∇L on all the data (the record), the step's own gradient on its
    minibatch, the line search's trials, the update, and the sharpness spread over its steps."""
    full = _net_eval_seconds(w.params, w.points, w.units)
    step_data = full if w.batch is None else _net_eval_seconds(w.params, w.batch, w.units)
    seconds = full + (0.0 if w.batch is None else step_data)
    seconds += w.trials * NET_VALUE_SHARE * step_data
    seconds += (NET_STEP_US * 1e3 + w.params * NET_STEP_PARAM_NS) * 1e-9
    if w.sharpness_every:
        seconds += w.lanczos * NET_HVP_SHARE * full / w.sharpness_every
    return seconds


def network_seconds(w: NetworkWork) -> float:
    grid = w.grid * w.points * (w.params * NET_GRID_PP_NS + w.units * NET_GRID_PU_NS) * 1e-9
    return (w.steps + 1) * network_step_seconds(w) + grid


def network_noise_seconds(w: NetworkWork, batch: int, measure_steps: int) -> float:
    """A noise cloud (POST /api/networks/noise): the training run, then each point's gradient
    twice (at θ₀ and θ*), n Hessian-vector products, the eigendecomposition and `measure_steps`
    SGD steps on batches of `batch` points."""

    def one_step(points: int) -> float:
        return network_seconds(NetworkWork(w.params, points, w.units, 0, None, 0.0, 0, 0))

    return (
        network_seconds(w)
        + 2 * w.points * one_step(1)
        + w.params * NET_HVP_SHARE * one_step(w.points)
        + w.params**3 * 1e-9
        + measure_steps * one_step(batch)
    )


def check_network(w: NetworkWork, what: str) -> float:
    """The estimated seconds of a network request; 422 naming the budget and what to reduce."""
    seconds = network_seconds(w)
    if seconds <= BUDGET_SECONDS:
        return seconds
    options = []
    grid_seconds = network_seconds(NetworkWork(**{**vars(w), "steps": 0, "grid": w.grid}))
    room = BUDGET_SECONDS - grid_seconds
    if room > 0:
        options.append(f"max_steps ≤ {int(room / network_step_seconds(w)):,}")
    if w.grid:
        options.append("a smaller m")
    if w.sharpness_every:
        options.append("a larger sharpness_every or fewer sharpness_iterations")
    if w.trials:
        options.append("no line search")
    options.append("fewer points or a smaller network")
    detail = f"{w.steps:,} steps of a {w.params:,}-parameter network on {w.points:,} points" + (
        f" and a {math.isqrt(w.grid)} × {math.isqrt(w.grid)} grid" if w.grid else ""
    )
    raise _over(f"{what} ({detail})", seconds, "use " + ", or ".join(options))
