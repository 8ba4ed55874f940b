"""Networks benchmark: the numpy core of app/core/networks against PyTorch (CPU, float64), each
figure beside its baseline measured in the same run, one thread each (torch.set_num_threads(1),
and numpy's BLAS held to one thread with threadpoolctl). Target for every ratio: ≥ 1.0, i.e. the
core is not slower than PyTorch.

Two networks of about 300 parameters on 500 points:
- moons: 2 → 16 → 12 → 2, tanh, cross-entropy (278 parameters);
- chebyshev: 1 → 100 → 1, tanh, ½·MSE on T₄ (301 parameters; Cohen et al.'s kind of setup).

1. A 51 × 51 slice on two filter-normalised random directions (slices.loss_grid) against the
   way loss-landscape tools draw one: for each grid point, load θ + α·d₁ + β·d₂ into a
   torch.nn.Sequential (vector_to_parameters) and evaluate the loss under no_grad.
2. Training steps per second, full-batch GD and Adam (train.train with tol = 0, so every step
   runs; it also computes ‖∇L‖ and the stop rules each step) against a plain torch loop
   (zero_grad, forward, backward, optimizer.step) on the same nn.Sequential.
3. The sharpness λ_max by 20 Lanczos iterations: sharpness.sharpness (R-operator HVPs) against
   the same sharpness.lanczos driven by torch.autograd Hessian-vector products (the gradient
   built once with create_graph=True, then one double-backward per Lanczos vector).

Measured 2026-12-02 on the shared 2-core machine under heavy load from other work (CPU time;
the wall-clock times swing with the load), every figure meets its target: the slice 1.9×
(moons) and 1.3× (Chebyshev); training GD / Adam 1.6× / 2.2× and 1.2× / 1.5×; the sharpness
2.8× and 1.9×. The slice's margin is smallest on the wide 1 → 100 → 1 network, where
51² · 500 · 100 = 130 M tanh evaluations dominate both sides: numpy's np.tanh is not vectorised
on this CPU (AVX2), about 3× slower per element than torch's, so the grid computes tanh as
1 − 2/(e^{2z} + 1) in place (numpy's exp is vectorised). Training and the sharpness on that
network missed (0.42× / 0.50× and 0.34×) for the same reason until NetworkLoss kept σ′ and σ″
from the forward pass instead of evaluating tanh again for every gradient and every
Hessian-vector product (commits 7c27571 and c0ff007).

Timings alternate between the runs compared and keep the best of several, in wall-clock and in
CPU time of this process: on a busy machine the wall-clock times swing with the other load, the
CPU times much less. The ratio printed is PyTorch's time over ours (CPU time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from app.core.descent import Optimizer, StopRules
from app.core.descent.optimizers import GD, Adam
from app.core.networks import (
    Architecture,
    NetworkLoss,
    init_theta,
    lanczos,
    loss_grid,
    random_plane,
    sharpness,
    toy_dataset,
    train,
)

MakeOptimizer = Callable[[Iterator[torch.nn.Parameter]], torch.optim.Optimizer]

POINTS, GRID, STEPS, LANCZOS = 500, 51, 200, 20
RUNS = 5


class Timer:
    """Best wall-clock and CPU time over the runs of one function."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn, self.wall, self.cpu = fn, float("inf"), float("inf")

    def run(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.fn()
        self.cpu = min(self.cpu, time.process_time() - cpu)
        self.wall = min(self.wall, time.perf_counter() - wall)


def race(ours: Timer, theirs: Timer, runs: int = RUNS) -> None:
    for _ in range(runs):  # interleaved, so a change in the machine's load hits both alike
        ours.run()
        theirs.run()


def verdict(ours: Timer, theirs: Timer) -> str:
    ratio = theirs.cpu / ours.cpu
    mark = "PASS" if ratio >= 1 else "MISS"
    return f"ratio {ratio:5.2f} [wall {theirs.wall / ours.wall:4.2f}] {mark}"


@dataclass
class Case:
    name: str
    objective: NetworkLoss
    theta: np.ndarray
    net: torch.nn.Sequential
    X: torch.Tensor
    y: torch.Tensor

    def torch_loss(self, out: torch.Tensor) -> torch.Tensor:
        if self.objective.loss == "mse":
            return 0.5 * torch.nn.functional.mse_loss(out, self.y)
        return torch.nn.functional.cross_entropy(out, self.y)


def make_case(name: str, hidden: tuple[int, ...]) -> Case:
    data = toy_dataset(name, POINTS, seed=0)
    arch = Architecture(data.inputs, hidden, data.outputs, "tanh")
    objective = NetworkLoss(arch, data.X, data.y, data.loss)
    sizes = (arch.inputs, *arch.hidden, arch.outputs)
    modules: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        modules.append(torch.nn.Linear(sizes[i], sizes[i + 1], dtype=torch.float64))
        if i < len(sizes) - 2:
            modules.append(torch.nn.Tanh())
    y = (
        torch.from_numpy(objective.y.copy())
        if data.loss == "mse"
        else torch.from_numpy(np.asarray(objective.y, dtype=np.int64))
    )
    theta = init_theta(arch, 0)
    return Case(name, objective, theta, torch.nn.Sequential(*modules), torch.from_numpy(data.X), y)


def load(case: Case, theta: np.ndarray) -> None:
    torch.nn.utils.vector_to_parameters(torch.from_numpy(theta.copy()), case.net.parameters())


def bench_slice(case: Case) -> None:
    plane = random_plane(case.objective.arch, case.theta, seed=0)
    span = (-1.0, 1.0)
    alphas = np.linspace(*span, GRID)
    center, u, v = (torch.from_numpy(x) for x in (plane.center, plane.d1, plane.d2))
    result: dict[str, np.ndarray] = {}

    def ours() -> None:
        result["ours"] = loss_grid(case.objective, plane, span, span, GRID).loss

    def theirs() -> None:
        out = np.empty((GRID, GRID))
        params = list(case.net.parameters())
        with torch.no_grad():
            for j, b in enumerate(alphas):
                for i, a in enumerate(alphas):
                    torch.nn.utils.vector_to_parameters(center + a * u + b * v, params)
                    out[j, i] = case.torch_loss(case.net(case.X)).item()
        result["torch"] = out

    a, b = Timer(ours), Timer(theirs)
    race(a, b, 3)
    diff = np.max(np.abs(result["ours"] - result["torch"]) / np.abs(result["torch"]))
    print(
        f"  slice {GRID}×{GRID}:  ours {a.wall:6.3f} s [{a.cpu:6.3f} s]   torch point by point "
        f"{b.wall:6.3f} s [{b.cpu:6.3f} s]   {verdict(a, b)}  (max rel. difference {diff:.1e})"
    )


def bench_training(case: Case) -> None:
    bench_train(case, "GD  ", GD(eta=0.05), lambda p: torch.optim.SGD(p, lr=0.05))
    bench_train(case, "Adam", Adam(eta=0.001), lambda p: torch.optim.Adam(p, lr=0.001))


def bench_train(case: Case, label: str, optimizer: Optimizer, make: MakeOptimizer) -> None:
    finals: dict[str, float] = {}

    def ours() -> None:
        rules = StopRules(max_steps=STEPS, tol=0.0)
        records = list(train(case.objective, case.theta, optimizer, rules=rules))
        assert len(records) == STEPS + 1, records[-1].status
        finals["ours"] = records[-1].loss

    def theirs() -> None:
        load(case, case.theta)
        opt = make(case.net.parameters())
        for _ in range(STEPS):
            opt.zero_grad()
            loss = case.torch_loss(case.net(case.X))
            loss.backward()
            opt.step()
        with torch.no_grad():
            finals["torch"] = case.torch_loss(case.net(case.X)).item()

    a, b = Timer(ours), Timer(theirs)
    race(a, b)
    print(
        f"  train {label} ({STEPS} steps): ours {STEPS / a.cpu:7.0f} steps/s   torch loop "
        f"{STEPS / b.cpu:7.0f} steps/s   {verdict(a, b)}  (final losses "
        f"{finals['ours']:.10g} / {finals['torch']:.10g})"
    )


def bench_sharpness(case: Case) -> None:
    theta = case.theta
    values: dict[str, float] = {}

    def ours() -> None:
        o = case.objective  # afresh, so no forward pass is cached from the previous run
        fresh = NetworkLoss(o.arch, o.X, o.y, o.loss)
        values["ours"] = sharpness(fresh, theta, LANCZOS)

    def theirs() -> None:
        load(case, theta)
        params = list(case.net.parameters())
        loss = case.torch_loss(case.net(case.X))
        grads = torch.autograd.grad(loss, params, create_graph=True)
        flat = torch.cat([g.reshape(-1) for g in grads])

        def hvp(v: np.ndarray) -> np.ndarray:
            hv = torch.autograd.grad(flat @ torch.from_numpy(v), params, retain_graph=True)
            return torch.cat([h.reshape(-1) for h in hv]).numpy()

        values["torch"] = float(lanczos(hvp, case.objective.n, LANCZOS)[-1])

    a, b = Timer(ours), Timer(theirs)
    race(a, b)
    print(
        f"  sharpness ({LANCZOS} Lanczos steps): ours {a.wall * 1e3:6.1f} ms "
        f"[{a.cpu * 1e3:6.1f} ms]   torch HVPs {b.wall * 1e3:6.1f} ms [{b.cpu * 1e3:6.1f} ms]   "
        f"{verdict(a, b)}  (λ_max {values['ours']:.10g} / {values['torch']:.10g})"
    )


def main() -> None:
    torch.set_num_threads(1)
    with threadpool_limits(1):
        for case in (make_case("moons", (16, 12)), make_case("chebyshev", (100,))):
            arch = case.objective.arch
            print(
                f"{case.name}: {arch.inputs} → {' → '.join(map(str, arch.hidden))} → "
                f"{arch.outputs}, tanh, {case.objective.loss}, {arch.n_params} parameters, "
                f"{POINTS} points; best of {RUNS} (slice: of 3), wall-clock [CPU time]; ratio = "
                "torch / ours"
            )
            bench_slice(case)
            bench_training(case)
            bench_sharpness(case)


if __name__ == "__main__":
    main()
