"""Basins benchmark: 256×256 starts × 500 GD steps on Himmelblau.

Prints the vectorised batch runner's time against two baselines measured in the same run:
(a) a per-start Python loop (the single-run runner) over a 16×16 sample, scaled to 256×256
    (target: ≥ 100× faster);
(b) a minimal hand-written in-place numpy loop of the same GD update for 500 steps
    (target: ≤ 1.5× its time);
and the peak memory of the batch run (tracemalloc; target ≤ 300 MB).

The batch runner is timed twice: with tol = 0, so every start makes all 500 steps like the
baseline (the fair comparison), and with the API's default tol = 1e-5, where finished starts
drop out early.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from app.core.batch import run_batch
from app.core.optimizers import GD
from app.core.presets import get_preset
from app.core.runner import StopRules, run_to_end

N, STEPS, ETA = 256, 500, 0.01


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    surface = get_preset("himmelblau")
    xs, ys = np.meshgrid(np.linspace(-5, 5, N), np.linspace(-5, 5, N))
    gd = GD(ETA)

    def batch(tol: float) -> None:
        run_batch(surface, gd, xs, ys, StopRules(max_steps=STEPS, tol=tol))

    def bare_loop() -> None:
        x, y = xs.ravel().copy(), ys.ravel().copy()
        for _ in range(STEPS):
            gx, gy = surface.grad(x, y)
            x -= ETA * gx
            y -= ETA * gy

    sample = [(xs[j, i], ys[j, i]) for j in range(0, N, 16) for i in range(0, N, 16)]

    def python_loop() -> None:
        for start in sample:
            run_to_end(surface, gd, start, StopRules(max_steps=STEPS, tol=0.0))

    t_full = best_of(3, lambda: batch(0.0))
    t_early = best_of(3, lambda: batch(1e-5))
    t_bare = best_of(3, bare_loop)
    t_python = best_of(1, python_loop) * (N * N) / len(sample)

    tracemalloc.start()
    batch(0.0)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()

    print(f"256×256 starts × {STEPS} GD steps on himmelblau")
    print(f"  batch runner, tol=0 (all 500 steps): {t_full:8.3f} s")
    print(f"  batch runner, tol=1e-5 (early exit): {t_early:8.3f} s")
    print(f"  (a) per-start Python loop, scaled:  {t_python:8.1f} s  -> batch is "
          f"{t_python / t_full:6.0f}× faster (target ≥ 100×) "
          f"{'PASS' if t_python / t_full >= 100 else 'MISS'}")
    print(f"  (b) bare in-place numpy loop:       {t_bare:8.3f} s  -> batch takes "
          f"{t_full / t_bare:5.2f}× its time (target ≤ 1.5×) "
          f"{'PASS' if t_full / t_bare <= 1.5 else 'MISS'}; with early exit {t_early / t_bare:5.2f}×")
    print(f"  peak memory of the batch run: {peak_mb:6.1f} MB = {peak_mb / 300:4.2f} of the "
          f"300 MB target {'PASS' if peak_mb <= 300 else 'MISS'}")


if __name__ == "__main__":
    main()
