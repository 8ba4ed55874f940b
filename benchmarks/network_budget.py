"""Work caps of network requests (issue 18): app/api/budget.py's network estimates against
measured CPU time.

For a few network runs (small and large networks, few and many points, minibatches, a line
search, the sharpness measured often) and two slices, scaled to about a second each, prints the
estimated and the measured CPU time (this thread, best of 2) and their ratio. Ratios from 0.75
(the swing of measurements on a busy machine) to a few mean the NET_* constants still hold here;
below 0.75 a request over the budget could be let through (MISS). About half a minute; no server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from app.api import budget
from app.api.network_schemas import NetworkRunRequest, NetworkSliceRequest
from app.api.networks import NetworkRun
from app.core.networks import loss_slice

RUNS: dict[str, dict[str, Any]] = {
    "Chebyshev 20 pts, 1-32-1, GD": {"data": {"dataset": "chebyshev"}, "max_steps": 3000},
    "Chebyshev, sharpness every 5 (10 it.)": {
        "data": {"dataset": "chebyshev"},
        "max_steps": 1000,
        "sharpness_every": 5,
        "sharpness_iterations": 10,
    },
    "moons 500 pts, 2-16-16-2, Adam": {
        "data": {"dataset": "moons", "points": 500},
        "architecture": {"hidden": [16, 16]},
        "optimizer": {"name": "adam", "eta": 0.01},
        "max_steps": 600,
    },
    "moons 2,000 pts, 2-64-64-2, SGD batch 64": {
        "data": {"dataset": "moons", "points": 2000},
        "architecture": {"hidden": [64, 64]},
        "batch_size": 64,
        "max_steps": 60,
    },
    "spirals 500 pts, 3 × 128, GD + line search": {
        "data": {"dataset": "spirals", "points": 500},
        "architecture": {"hidden": [128, 128, 128]},
        "optimizer": {"name": "gd", "eta": 1.0, "line_search": {"c": 0.5, "shrink": 0.5}},
        "max_steps": 20,
    },
}
SLICES: dict[str, dict[str, Any]] = {
    "slice 41², moons 500 pts, 2-16-2": {
        "run": {
            "data": {"dataset": "moons", "points": 500},
            "architecture": {"hidden": [16]},
            "max_steps": 100,
        },
        "m": 41,
    },
    "slice 51², Chebyshev 500 pts, 1-100-1": {
        "run": {
            "data": {"dataset": "chebyshev", "points": 500},
            "architecture": {"hidden": [100]},
            "max_steps": 10,
        },
        "m": 51,
    },
}


def cpu(call: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def run_all(run: NetworkRun) -> list[Any]:
    return list(run.records(theta_every=1))


def slice_of(request: NetworkSliceRequest) -> None:
    run = NetworkRun(request.run)
    records = run_all(run)
    loss_slice(
        run.objective,
        request.plane,
        request.m,
        iterates=np.array([r.theta for r in records]),
        steps=[r.t for r in records],
        true_loss=[r.loss for r in records],
    )


def main() -> None:
    print(f"{'request':44s} {'estimate':>9s} {'measured':>9s} {'ratio':>6s}")
    rows: list[tuple[str, float, Callable[[], Any]]] = []
    for name, body in RUNS.items():
        run = NetworkRun(NetworkRunRequest.model_validate(body))
        rows.append((name, budget.network_seconds(run.work()), partial(run_all, run)))
    for name, body in SLICES.items():
        request = NetworkSliceRequest.model_validate(body)
        run = NetworkRun(request.run)
        work = run.work(grid=request.m**2 + request.run.max_steps + 1)
        rows.append((name, budget.network_seconds(work), partial(slice_of, request)))
    for name, estimate, call in rows:
        measured = cpu(call)
        ratio = estimate / measured
        flag = "  MISS" if ratio < 0.75 else ""
        print(f"{name:44s} {estimate:8.2f}s {measured:8.2f}s {ratio:6.2f}{flag}")


if __name__ == "__main__":
    main()
