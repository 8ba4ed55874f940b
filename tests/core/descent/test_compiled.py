"""The compiled GD kernel against the Python loop it replaces: bitwise the same runs.

The Python loop (`compiled=False`) is the reference: each step there is the presets' functions
evaluated by the interpreter, with the exact stop rules. The kernel must give the very same
floats, statuses and messages, including at the iterates it hands back to Python (a stop rule
that may fire, a step that overflows) and across its output blocks. Each stop rule at its very
threshold is held in test_stopping.py, for every runner.
"""

import dataclasses
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.descent import compiled, runner
from app.core.descent.optimizers import GD
from app.core.descent.runner import StopRules, descend, trajectory
from app.core.surfaces import presets
from app.core.surfaces.presets import PRESETS, get_preset

COMPILED = [sid for sid in PRESETS if compiled.gd_kernel(PRESETS[sid]) is not None]


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def _same_runs(surface_id: str, eta: float, theta0: tuple[float, float], rules: StopRules):
    surface = get_preset(surface_id)
    fast = trajectory(surface, GD(eta), theta0, rules)
    slow = trajectory(surface, GD(eta), theta0, rules, compiled=False)
    assert len(fast) == len(slow)
    for column in ("thetas", "losses", "grads"):  # bit for bit
        assert getattr(fast, column).tobytes() == getattr(slow, column).tobytes(), column
    assert fast.etas == slow.etas
    assert (fast.status, fast.reason, fast.state) == (slow.status, slow.reason, slow.state)
    return fast


def test_every_preset_without_a_transcendental_function_is_compiled() -> None:
    assert set(COMPILED) == set(PRESETS) - {"rastrigin"}
    assert compiled.gd_kernel(get_preset("rastrigin")) is None  # cos: libm and numpy may differ


def test_a_surface_that_only_shares_a_presets_id_is_not_compiled() -> None:
    himmelblau = get_preset("himmelblau")
    impostor = dataclasses.replace(himmelblau, value=lambda x, y: x * x + y * y)
    assert compiled.gd_kernel(impostor) is None
    run = trajectory(impostor, GD(0.01), (1.0, 1.0), StopRules(max_steps=3, tol=0.0))
    assert run.losses.tolist() == [impostor.value(*theta) for theta in run.thetas.tolist()]


@pytest.mark.parametrize("surface_id", COMPILED)
@given(
    x=st.floats(-1e3, 1e3, allow_nan=False),
    y=st.floats(-1e3, 1e3, allow_nan=False),
)
def test_compiled_value_and_gradient_are_bitwise_the_python_ones(
    surface_id: str, x: float, y: float
) -> None:
    surface = get_preset(surface_id)
    kind = compiled._KINDS[surface_id]
    qa, qc = presets.QUADRATIC_COEFFICIENTS.get(surface_id, (0.0, 0.0))
    got = compiled.value_and_grad(kind, qa, qc, x, y)
    want = (surface.value(x, y), *surface.grad(x, y))
    assert [_bits(v) for v in got] == [_bits(float(v)) for v in want]


@pytest.mark.parametrize("surface_id", COMPILED)
@given(
    x=st.floats(-6.0, 6.0),
    y=st.floats(-6.0, 6.0),
    log_eta=st.floats(-4.0, 0.5),
    tol=st.sampled_from([0.0, 1e-9, 1e-4, 0.5]),
    max_steps=st.integers(0, 300),
)
def test_compiled_runs_are_bitwise_the_python_runs(
    surface_id: str, x: float, y: float, log_eta: float, tol: float, max_steps: int
) -> None:
    rules = StopRules(max_steps=max_steps, tol=tol)
    try:
        _same_runs(surface_id, 10.0**log_eta, (x, y), rules)
    except ValueError as exc:  # not finite at θ₀: never, for these polynomials on this box
        pytest.fail(str(exc))


def test_a_run_longer_than_a_kernel_block_is_the_python_run() -> None:
    steps = 2 * runner._KERNEL_BLOCK + 123
    run = _same_runs("ravine", 1e-4, (3.0, 2.0), StopRules(max_steps=steps, tol=0.0))
    assert (run.status, len(run)) == ("max_steps", steps + 1)


def test_streamed_iterates_are_the_compiled_columns() -> None:
    """`descend` extends a run one iterate, then chunks: each call hands over to the kernel."""
    surface, rules = get_preset("rosenbrock"), StopRules(max_steps=1000, tol=1e-5)
    run = trajectory(surface, GD(1e-3), (-1.2, 1.0), rules)
    assert [run.iterate(i) for i in range(len(run))] == list(
        descend(surface, GD(1e-3), (-1.2, 1.0), rules)
    )


def test_without_a_writable_cache_the_kernel_is_compiled_in_the_process() -> None:
    """numba refuses cache=True where no cache directory is writable (a read-only install, no
    home): the app must still start and run compiled GD. A locator list that finds nothing
    stands in for such a machine."""
    import os
    import subprocess
    import sys

    code = (
        "from app.core.descent import compiled; from app.core.surfaces import presets; "
        "assert compiled.gd_kernel(presets.get_preset('himmelblau')) is not None; "
        "compiled.warm_up(); print('ok')"
    )
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "ZipCacheLocator"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
