"""Work caps (issue 15): app/api/budget.py's estimates against measured CPU time.

For a few requests of each kind (batch runs on a preset, a formula and a logistic loss, with and
without a line search or Newton's method; single runs), scaled down so that each takes about a
second, prints the estimated and the measured CPU time (this thread, best of 2) and their ratio.
An estimate is meant to be about the cost or above it: ratios from 0.75 (the measurements swing
that much on a busy machine) to a few mean the constants in app/api/budget.py still hold here;
below 0.75, requests that cost more than the budget would be let through (MISS). A line search's
trials are estimated from its shrink alone, so on an easy surface the ratio is large. About half
a minute; no server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from app.api import budget
from app.api.schemas import DescentRequest
from app.core.data import dataset_surface
from app.core.descent import LineSearch, StopRules, Trajectory, make_optimizer, run_batch
from app.core.formulas import formula_surface
from app.core.surfaces import PRESETS, Domain, Surface


def cpu(call: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(2):
        began = time.thread_time()
        call()
        best = min(best, time.thread_time() - began)
    return best


def params(optimizer: dict | None) -> Any:
    return DescentRequest.model_validate({"surface": "quadratic", "optimizer": optimizer}).optimizer


def batch_case(surface: Surface, optimizer: dict, starts: int, steps: int) -> tuple[float, float]:
    p = params(optimizer)
    work = budget.work(p, starts, steps, batch=True)
    d = surface.domain
    rng = np.random.default_rng(0)
    x, y = rng.uniform(*d.x, starts), rng.uniform(*d.y, starts)
    opt = make_optimizer(optimizer["name"], eta=optimizer["eta"])
    search = LineSearch(**optimizer["line_search"]) if "line_search" in optimizer else None
    rules = StopRules(max_steps=steps, tol=0.0)
    measured = cpu(lambda: run_batch(surface, opt, x, y, rules, line_search=search))
    return budget.estimate_seconds(surface, work), measured


def single_case(surface: Surface, optimizer: dict, steps: int) -> tuple[float, float]:
    p = params(optimizer)
    work = budget.work(p, 1, steps, batch=False)
    opt = make_optimizer(optimizer["name"], eta=optimizer["eta"])
    search = LineSearch(**optimizer["line_search"]) if "line_search" in optimizer else None
    rules = StopRules(max_steps=steps, tol=0.0)
    start = surface.default_start

    def run() -> None:
        path = Trajectory(surface, opt, start, rules, line_search=search)
        while path.status is None:
            path.extend(1 << 20)

    return budget.estimate_seconds(surface, work), cpu(run)


def main() -> None:
    rng = np.random.default_rng(15)
    x = rng.normal(size=10_000)
    data = dataset_surface("logistic", x, (x + rng.normal(size=x.size) > 0).astype(float))
    box = Domain((-5.0, 5.0), (-5.0, 5.0))
    tanh = formula_surface("sin(x)*cos(y)*tanh(x*y)", box, timeout=10.0).surface
    rastrigin = PRESETS["rastrigin"]
    gd = {"name": "gd", "eta": 1e-4}
    search = {"name": "gd", "eta": 1.0, "line_search": {"c": 0.9, "shrink": 0.9}}
    newton = {"name": "newton", "eta": 0.5}
    adam = {"name": "adam", "eta": 1e-3}
    cases: list[tuple[str, Callable[[], tuple[float, float]]]] = [
        ("batch GD, Rastrigin, 64² × 500", lambda: batch_case(rastrigin, gd, 4096, 500)),
        ("batch Adam, Rastrigin, 64² × 300", lambda: batch_case(rastrigin, adam, 4096, 300)),
        ("batch line search, Rastrigin, 32² × 100",
         lambda: batch_case(rastrigin, search, 1024, 100)),
        ("batch Newton, sin·cos·tanh, 32² × 200", lambda: batch_case(tanh, newton, 1024, 200)),
        ("batch GD, 10,000 points, 8² × 30", lambda: batch_case(data, gd, 64, 30)),
        ("single Adam, Rastrigin, 10,000 steps", lambda: single_case(rastrigin, adam, 10_000)),
        ("single Adam, sin·cos·tanh, 5,000 steps", lambda: single_case(tanh, adam, 5000)),
        ("single line search, 10,000 points, 200", lambda: single_case(data, search, 200)),
    ]  # fmt: skip
    print(f"{'request':<42} {'estimated s':>11} {'measured s':>10} {'ratio':>6}")
    for name, case in cases:
        estimated, measured = case()
        ratio = estimated / measured
        mark = "" if ratio >= 0.75 else "  MISS: the estimate is well below the cost"
        print(f"{name:<42} {estimated:>11.2f} {measured:>10.2f} {ratio:>6.2f}{mark}")


if __name__ == "__main__":
    main()
