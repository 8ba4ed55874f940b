"""Basins benchmark: 256×256 starts × 500 GD steps (η = 0.01) on Himmelblau.

Prints the vectorised batch runner's time against two baselines measured in the same run:
(a) a per-start Python loop (the single-run runner's Python GD loop, `compiled=False`) over a
    16×16 sample, scaled to 256×256 (target: ≥ 100× faster); for information, also the
    single-run runner as it serves /api/descent, whose GD steps are compiled with numba on this
    surface (app/core/compiled.py);
(b) a minimal hand-written in-place numpy loop of the same GD update for 500 steps, with no
    stop rule at all (target: ≤ 1.5× its time);
and the peak memory of the batch run (tracemalloc; target ≤ 300 MB).

For information, (b) is also timed with the gradient evaluated the way the batch runner
evaluates it on this surface: fused and in place (`Surface.value_and_grad` into buffers, so no
array is allocated per step); the batch's time over that loop is mostly the cost of its stop
rules. No target applies to that line.

The batch runner is timed with tol = 0, the fair comparison with (b): a start stops early only
where ∇L is exactly 0 or the run diverges. On this grid some starts do land exactly on the
minimum (3, 2), where ∇L = 0 in floating point, and stop there as their single runs do, so the
batch makes somewhat fewer start-steps than the bare loop; the share is printed, with the
ratio per start-step next to the plain one. It is also timed with the API's default
tol = 1e-5 (early exit), where finished starts drop out early.

Timings alternate between the runs compared and keep the best of several runs, in wall-clock
and in CPU time of this process: on a busy machine the wall-clock times swing with the other
load, the CPU times much less.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from app.core.descent.batch import run_batch
from app.core.descent.optimizers import GD
from app.core.descent.runner import StopRules, trajectory
from app.core.surfaces.presets import get_preset

N, STEPS, ETA = 256, 500, 0.01
RUNS = 7


class Timer:
    """Best wall-clock and CPU time over the runs of one function."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn, self.wall, self.cpu = fn, float("inf"), float("inf")

    def run(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.fn()
        self.cpu = min(self.cpu, time.process_time() - cpu)
        self.wall = min(self.wall, time.perf_counter() - wall)


def main() -> None:
    surface = get_preset("himmelblau")
    xs, ys = np.meshgrid(np.linspace(-5, 5, N), np.linspace(-5, 5, N))
    gd = GD(ETA)

    def batch(tol: float):
        return run_batch(surface, gd, xs, ys, StopRules(max_steps=STEPS, tol=tol))

    def bare_loop() -> None:
        x, y = xs.ravel().copy(), ys.ravel().copy()
        for _ in range(STEPS):
            gx, gy = surface.grad(x, y)
            x -= ETA * gx
            y -= ETA * gy

    def bare_loop_in_place() -> None:  # (b) with the batch's in-place fused gradient
        x, y = xs.ravel().copy(), ys.ravel().copy()
        work = (None, *np.empty((4, x.size)))  # ∂x, ∂y and two scratch arrays; no L
        step = np.empty(x.size)
        for _ in range(STEPS):
            _, gx, gy = surface.value_and_grad(x, y, work)
            np.multiply(gx, ETA, out=step)
            x -= step
            np.multiply(gy, ETA, out=step)
            y -= step

    sample = [(xs[j, i], ys[j, i]) for j in range(0, N, 16) for i in range(0, N, 16)]

    def per_start(compiled: bool) -> None:
        for start in sample:
            trajectory(surface, gd, start, StopRules(max_steps=STEPS, tol=0.0), compiled=compiled)

    full, early, bare, bare_fused, python, single = (
        Timer(lambda: batch(0.0)),
        Timer(lambda: batch(1e-5)),
        Timer(bare_loop),
        Timer(bare_loop_in_place),
        Timer(lambda: per_start(False)),
        Timer(lambda: per_start(True)),
    )
    for i in range(RUNS):  # interleaved, so a change in the machine's load hits all alike
        full.run()
        bare.run()
        bare_fused.run()
        if i < 3:
            early.run()
            python.run()
            single.run()
    scale = (N * N) / len(sample)

    result = batch(0.0)
    start_steps = int(result.steps.sum())
    share = start_steps / (N * N * STEPS)
    counts = np.bincount(result.status, minlength=3)

    tracemalloc.start()
    batch(0.0)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()

    print(
        f"256×256 starts × {STEPS} GD steps (η = {ETA}) on himmelblau; best of {RUNS} "
        "(early exit and Python loop: of 3), wall-clock [CPU time]"
    )
    print(
        f"  batch runner, tol=0:                {full.wall:8.3f} s [{full.cpu:.3f} s]  "
        f"({counts[0]} starts reach ∇L = 0 exactly and stop, {counts[1]} diverge; "
        f"{share:.1%} of the bare loop's start-steps)"
    )
    print(f"  batch runner, tol=1e-5 (early exit): {early.wall:7.3f} s [{early.cpu:.3f} s]")
    a_wall, a_cpu = python.wall * scale / full.wall, python.cpu * scale / full.cpu
    print(
        f"  (a) per-start Python loop, scaled:  {python.wall * scale:8.1f} s "
        f"[{python.cpu * scale:.1f} s]"
        f"  -> batch is {a_wall:4.0f}× [{a_cpu:.0f}×] faster (target ≥ 100×) "
        f"{'PASS' if a_wall >= 100 else 'MISS'}"
    )
    served = single.wall * scale
    print(
        f"      the single-run runner as served (compiled GD): {served:6.2f} s "
        f"[{single.cpu * scale:.2f} s]  -> batch is {served / full.wall:4.0f}× faster (no target)"
    )
    b_wall, b_cpu = full.wall / bare.wall, full.cpu / bare.cpu
    print(
        f"  (b) bare in-place numpy loop:       {bare.wall:8.3f} s [{bare.cpu:.3f} s]  "
        "-> batch takes "
        f"{b_wall:4.2f}× [{b_cpu:.2f}×] its time (target ≤ 1.5×) "
        f"{'PASS' if b_wall <= 1.5 else 'MISS'}; per start-step {b_wall / share:4.2f}× "
        f"[{b_cpu / share:.2f}×]; with early exit {early.wall / bare.wall:4.2f}×"
    )
    print(
        f"      the same with the batch's in-place fused gradient: {bare_fused.wall:5.3f} s "
        f"[{bare_fused.cpu:.3f} s]  -> batch takes {full.wall / bare_fused.wall:4.2f}× "
        f"[{full.cpu / bare_fused.cpu:.2f}×] its time, per start-step "
        f"{full.wall / bare_fused.wall / share:4.2f}× (no target: mostly the stop rules' cost)"
    )
    print(
        f"  peak memory of the batch run: {peak_mb:6.1f} MB = {peak_mb / 300:4.2f} of the "
        f"300 MB target {'PASS' if peak_mb <= 300 else 'MISS'}"
    )


if __name__ == "__main__":
    main()
