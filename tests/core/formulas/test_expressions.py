"""Formulas: nothing in them executes, every cap holds, errors say where, derivatives are right.

Truths used: a canary file that hostile text would create if it ran; finite differences of the
compiled functions; SymPy's own equality for the canonical round trip; wall-clock deadlines of
the sandbox (generous, 2 s, as the issue asks) measured around each call.
"""

import math
import os
import pickle
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from app.core.formulas import formula as formulas
from app.core.formulas import sandbox
from app.core.formulas.errors import (
    ExpressionError,
    FormulaSyntaxError,
    FormulaTimeoutError,
    FormulaTooLargeError,
    NotAllowedError,
    UnknownNameError,
)
from app.core.formulas.expressions import MAX_LENGTH, X, check, derivatives, numeric, parse
from app.core.formulas.worker import canonical
from app.core.surfaces.surface import Domain

DEADLINE = 2.0  # seconds: "rejected or evaluated safely within 2 s"

# Text that would create the canary if any of it were executed; {p} is the canary's path.
CODE_EXECUTION = {
    "import_system": "__import__('os').system('touch {p}')",
    "import_mkdir": "__import__('os').mkdir('{p}')",
    "open": "open('{p}', 'w')",
    "eval": "eval(\"__import__('os').mkdir('{p}')\")",
    "exec": "exec(\"import os; os.mkdir('{p}')\")",
    "attribute": "x.__class__.__base__.__subclasses__()",
    "dunder_name": "__builtins__",
    "getattr": "getattr(x, '__class__')",
    "lambda": "(lambda: __import__('os').mkdir('{p}'))()",
    "list_comprehension": "[__import__('os').mkdir('{p}') for _ in 'a']",
    "generator": "sum(__import__('os').mkdir('{p}') for _ in 'a')",
    "dict_comprehension": "{{k: __import__('os').mkdir('{p}') for k in 'a'}}",
    "string": "'{p}'",
    "bytes": "b'{p}'",
    "f_string": "f\"{{__import__('os').mkdir('{p}')}}\"",
    "subscript": "x[__import__('os').mkdir('{p}')]",
    "call_off_whitelist": "mkdir('{p}')",
    "keyword_argument": "sin(x=__import__('os').mkdir('{p}'))",
    "starred_argument": "sin(*[__import__('os').mkdir('{p}')])",
    "walrus": "(z := __import__('os').mkdir('{p}'))",
    "comparison": "x < __import__('os').mkdir('{p}')",
    "boolean": "x and __import__('os').mkdir('{p}')",
    "conditional": "x if __import__('os').mkdir('{p}') else y",
    "method_on_number": "(1).__class__",
    "tuple": "(x, __import__('os').mkdir('{p}'))",
    "set": "{{x, y}}",
    "ellipsis": "...",
    "none": "None",
    "true": "True",
    "complex": "1j",
    "matmul": "x @ y",
    "floordiv": "x // y",
    "modulo": "x % y",
    "bitwise": "x ^ y",
    "invert": "~x",
    "not": "not x",
    "await": "await x",
    "yield": "(yield x)",
    "semicolon": "x; __import__('os').mkdir('{p}')",
    "newline": "x\n__import__('os').mkdir('{p}')",
    "factorial": "factorial(10**8)",
    "sympify_trick": "Symbol('x')",
}

RESOURCE_ATTACKS = {
    "power_tower": "9**9**9",
    "power_tower_parenthesised": "x**(10**10)",
    "left_tower": "((9**99)**99)**99",
    "e_tower": "e**e**e**e",
    "huge_exponent": "x**100000",
    "huge_literal": "99999999999999999999999999",
    "huge_float": "1e308*x",
    "inf_float": "1e999",
    "many_digits": "1" * 400,
    "deep_parentheses": "(" * 200 + "x" + ")" * 200,
    "deep_unary": "-" * 400 + "x",
    "deep_calls": "sin(" * 40 + "x" + ")" * 40,
    "long_input": "x+" * 5000 + "x",
    "many_nodes": "+".join(["x*y"] * 60),
    "exp_exp_exp_exp": "exp(exp(exp(exp(x))))",
    "exp_of_big_constant": "exp(exp(exp(100)))",
    "big_product_of_sums": "*".join(f"(x+y+{i})" for i in range(1, 24)),
    "power_of_sum": "(x + y + sin(x*y) + exp(x - y))**99",
    "nested_sqrt": "sqrt(1+sqrt(2+sqrt(3+sqrt(4+sqrt(5+x**2+y**2)))))",
    "division_by_zero": "x/0",
    "log_zero": "log(0)",
    "sqrt_negative_constant": "sqrt(-1)",
    "zero_power_negative": "0**-1",
}

DOMAIN = Domain((-3.0, 3.0), (-3.0, 3.0))


@pytest.fixture(scope="module", autouse=True)
def warm_sandbox() -> None:
    """Start the forkserver once, so deadlines measure formulas, not process start-up."""
    sandbox.warm_up()


@pytest.mark.parametrize("name", CODE_EXECUTION)
def test_code_execution_attempts_are_refused_and_nothing_runs(name: str, tmp_path) -> None:
    canary = tmp_path / "canary"
    text = CODE_EXECUTION[name].format(p=canary)
    with pytest.raises(ExpressionError) as info:
        check(text)
    assert isinstance(info.value, ValueError) and str(info.value)
    with pytest.raises(ExpressionError):
        formulas.formula_surface(text, DOMAIN)
    assert not canary.exists()


@pytest.mark.parametrize("name", RESOURCE_ATTACKS)
def test_resource_attacks_are_refused_or_safe_within_the_deadline(name: str) -> None:
    text = RESOURCE_ATTACKS[name]
    began = time.perf_counter()
    try:
        formula = formulas.formula_surface(text, DOMAIN)
    except ExpressionError as error:
        assert str(error)
    else:
        surface = formula.surface
        xx, yy = np.meshgrid(np.linspace(-3, 3, 50), np.linspace(-3, 3, 50))
        z = surface.value(xx, yy)
        gx, gy = surface.grad(xx, yy)
        assert np.shape(z) == np.shape(gx) == np.shape(gy) == xx.shape
        float(surface.value(3.0, 3.0))  # a Python float in, no exception out
    assert time.perf_counter() - began < DEADLINE


def test_overflow_is_inf_or_nan_never_an_exception() -> None:
    f = parse("exp(exp(exp(exp(x)))) + log(y) + sqrt(x) + x**(3/2) + 1/x")
    (fx, fy), _ = derivatives(f)
    value, grad = numeric([f]), numeric([fx, fy])
    assert math.isinf(value(5.0, 1.0))
    assert math.isnan(value(-1.0, 1.0))  # sqrt and x**(3/2) of a negative: NaN, not complex
    assert not np.isfinite(value(0.0, -1.0))
    z = value(np.linspace(-1, 1, 5)[None, :], np.linspace(-1, 1, 4)[:, None])
    assert z.shape == (4, 5) and not np.isfinite(z).all() and np.isfinite(z).any()
    assert all(not math.isfinite(g) for g in grad(0.0, 0.0))


def test_constants_broadcast_to_the_input_shape() -> None:
    xx, yy = np.meshgrid(np.arange(3.0), np.arange(2.0))
    assert numeric([sp.Integer(3)])(xx, yy).tolist() == [[3.0] * 3] * 2
    _, (hxx, hxy, hyy) = derivatives(parse("x**2 + 3*x*y - y"))
    out = numeric([hxx, hxy, hyy])(xx, yy)
    assert [h.tolist() for h in out] == [[[2.0] * 3] * 2, [[3.0] * 3] * 2, [[0.0] * 3] * 2]
    scalar = numeric([sp.Integer(3)])(1.0, 2.0)
    assert np.shape(scalar) == () and float(scalar) == 3.0


def test_syntax_error_points_at_the_column() -> None:
    with pytest.raises(FormulaSyntaxError) as info:
        check("x + * y")
    error = info.value
    assert str(error).endswith("at column 5:\nx + * y\n    ^")
    assert (error.offset, error.column) == (4, 5)
    assert error.detail()["offset"] == 4 and error.detail()["type"] == "syntax"
    assert "2*x" in str(pytest.raises(FormulaSyntaxError, check, "2x").value)
    assert "x**2" in str(pytest.raises(NotAllowedError, check, "x^2").value)
    assert "never closed" in str(pytest.raises(FormulaSyntaxError, check, "sin(x").value)


def test_unknown_names_list_what_is_allowed() -> None:
    error = pytest.raises(UnknownNameError, check, "x + z").value
    assert error.offset == 4 and "x + z\n    ^" in str(error)
    assert error.allowed is not None
    assert {"x", "y", "pi", "e", "sin", "sqrt"} <= set(error.allowed)
    assert "Did you mean sin?" in str(pytest.raises(UnknownNameError, check, "sni(x)").value)
    assert "Did you mean cos?" in str(pytest.raises(UnknownNameError, check, "cso(x)").value)


def test_errors_survive_the_process_boundary() -> None:
    error = pytest.raises(ExpressionError, check, "x + * y").value
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert again.detail() == error.detail()


def test_caps() -> None:
    assert check("+".join(["x"] * 75)).normalized  # 149 nodes, 149 characters: within the caps
    with pytest.raises(FormulaTooLargeError, match="characters"):
        check("x" * (MAX_LENGTH + 1))
    with pytest.raises(FormulaTooLargeError, match="Power towers"):
        check("2**2**2")
    with pytest.raises(FormulaTooLargeError, match="exponent"):
        check("x**101")
    assert parse("x**100") == X**100 and parse("x**(1/2)") == sp.sqrt(X)
    with pytest.raises(FormulaTooLargeError, match="too large"):
        check("1000001*x")


def test_canonical_form_is_short_and_in_the_formula_language() -> None:
    f = parse("sin(x)*cos(y) + 0.1*(x**2 + y**2)")
    assert canonical(f) == "0.1*x**2 + 0.1*y**2 + sin(x)*cos(y)"
    assert canonical(parse("e**x + abs(y) + pi")) == "exp(x) + abs(y) + pi"
    assert canonical(parse("e * x")) == "e*x"
    assert check("x+y").normalized == check(" x +  y ").normalized == check("(x)+(y)").normalized


# --- hypothesis: whitelisted formulas ------------------------------------------------------------

SMOOTH = ["sin", "cos", "tanh", "atan"]
leaves = st.sampled_from(["x", "y", "1", "2", "0.5", "pi", "e"])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(SMOOTH), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.integers(2, 4)).map(lambda t: f"({t[0]})**{t[1]}"),
        st.tuples(children, children).map(lambda t: f"({t[0]}) / (2 + cos({t[1]}))"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"exp(sin({c}))"),
    )


formulas_text = st.recursive(leaves, _combine, max_leaves=8)


@given(text=formulas_text, u=st.floats(-2.0, 2.0), v=st.floats(-2.0, 2.0))
def test_symbolic_gradient_matches_finite_differences(text: str, u: float, v: float) -> None:
    """For smooth whitelisted formulas, the compiled ∇f equals central differences of f, and the
    compiled Hessian equals central differences of ∇f."""
    f = parse(text)
    (fx, fy), (hxx, hxy, hyy) = derivatives(f)
    value, grad, hess = numeric([f]), numeric([fx, fy]), numeric([hxx, hxy, hyy])
    h = 1e-6
    fd = [
        (value(u + h, v) - value(u - h, v)) / (2 * h),
        (value(u, v + h) - value(u, v - h)) / (2 * h),
    ]
    g = np.array(grad(u, v), dtype=float)
    scale = max(1.0, abs(float(value(u, v))), float(np.max(np.abs(g))))
    assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * scale)
    gxp, gyp = grad(u + h, v)
    gxm, gym = grad(u - h, v)
    gxq, gyq = grad(u, v + h)
    gxr, gyr = grad(u, v - h)
    hs = np.array(hess(u, v), dtype=float)
    fdh = [(gxp - gxm) / (2 * h), (gxq - gxr) / (2 * h), (gyq - gyr) / (2 * h)]
    assert_allclose(hs, fdh, rtol=1e-4, atol=1e-4 * max(scale, float(np.max(np.abs(hs)))))
    assert abs(hs[1] - (gyp - gym) / (2 * h)) <= 1e-4 * max(scale, float(np.max(np.abs(hs))))


@given(text=formulas_text)
def test_canonical_text_parses_back_to_the_same_expression(text: str) -> None:
    """The canonical form is itself a valid formula, with the same meaning."""
    f = parse(text)
    again = parse(canonical(f))
    assert again == f


# --- cache and sandbox -------------------------------------------------------------------------


def test_compiled_formulas_are_cached(monkeypatch) -> None:
    first = formulas.formula_surface("x**2 + 3*y**2", DOMAIN)
    monkeypatch.setattr(sandbox, "run", lambda *a, **k: pytest.fail("recompiled"))
    assert formulas.formula_surface(" x**2 + 3 * y**2", DOMAIN) is first


def test_a_timeout_is_an_error_but_not_a_verdict() -> None:
    """A formula that ran out of time is not cached as a failure: the next request, with the
    usual limit, analyses it afresh and succeeds (issue 15, item 3)."""
    text = "x**2 + y**2 + 0*sin(x*y)"
    domain = Domain((-1.0, 1.0), (-1.0, 2.0))
    formulas.CACHE.clear()
    began = time.perf_counter()
    with pytest.raises(FormulaTimeoutError, match="longer than"):
        formulas.formula_surface(text, domain, timeout=0.001)
    assert time.perf_counter() - began < DEADLINE
    formula = formulas.formula_surface(text, domain)
    assert formula.surface.value(1.0, 2.0) == pytest.approx(5.0)


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_sandbox_kills_a_child_past_its_cpu_time() -> None:
    sandbox.start()  # already running: a no-op
    began = time.perf_counter()
    with pytest.raises(sandbox.SandboxTimeout, match="CPU time"):
        sandbox.run(_spin, 30.0, timeout=0.3)
    assert time.perf_counter() - began < DEADLINE
    assert sandbox.run(math.hypot, 3.0, 4.0, timeout=5.0) == 5.0


def test_the_limit_is_cpu_time_not_wall_time() -> None:
    """A child that waits without computing (as one starved of a core by a busy machine does)
    has not used its time: it finishes when it needs more wall time than the limit (but less
    than WALL_FACTOR × the limit), and past that it is "busy", not a timeout."""
    assert sandbox.run(time.sleep, 1.1, timeout=1.0) is None  # the wall limit is 1.25 s
    with pytest.raises(sandbox.SandboxBusy, match="busy"):
        sandbox.run(time.sleep, 30, timeout=0.3)


def test_cpu_seconds_reads_this_process() -> None:
    before = sandbox.cpu_seconds(os.getpid())
    _spin(0.3)
    after = sandbox.cpu_seconds(os.getpid())
    assert before is not None and after is not None and after - before >= 0.2


def _blow_up(text: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
    raise RecursionError("maximum recursion depth exceeded")


def _allocate(gigabytes: int) -> int:
    return len(bytearray(gigabytes << 30))


def test_a_worker_failure_is_an_expression_error_not_a_crash(monkeypatch) -> None:
    from app.core.formulas import worker

    monkeypatch.setattr(worker, "analyse", _blow_up)  # pickled by name: the child runs it
    monkeypatch.setattr(formulas.sandbox, "run", lambda fn, *args, **kw: fn(*args))
    with pytest.raises(FormulaTooLargeError, match="RecursionError"):
        formulas.formula_surface("x*y + 17", DOMAIN)


def test_the_child_has_a_memory_limit() -> None:
    """A child that allocates far beyond its headroom fails instead of taking the machine."""
    with pytest.raises((MemoryError, sandbox.SandboxCrashed)):
        sandbox.run(_allocate, 3, timeout=10.0)


@given(text=formulas_text, u=st.floats(-2.0, 2.0), v=st.floats(-2.0, 2.0))
def test_one_point_and_a_batch_agree(text: str, u: float, v: float) -> None:
    """The fast path for one iterate (Python floats) gives what the array path gives."""
    f = parse(text)
    (fx, fy), _ = derivatives(f)
    value, grad = numeric([f]), numeric([fx, fy])
    batch = np.array([u, 0.5, -1.0])
    one = [value(u, v), *grad(u, v)]
    many = [value(batch, v)[0], *(g[0] for g in grad(batch, np.full(3, v)))]
    assert all(isinstance(a, np.float64) for a in one)
    assert_allclose(one, many, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize(
    ("text", "symbol"),
    [("x^2", "^"), ("sin(x) + (x + 1) ^ (y)", "^"), ("x % 3 + y", "%"), ("x // 2", "//")],
)
def test_a_forbidden_operator_is_underlined_not_the_expression_around_it(
    text: str, symbol: str
) -> None:
    """issue 16: for x^2 the caret underlined the whole formula instead of the ^."""
    with pytest.raises(NotAllowedError) as caught:
        check(text)
    error = caught.value
    assert text[error.offset : error.end] == symbol
    assert error.offset == text.index(symbol)
