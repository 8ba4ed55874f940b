"""A formula typed by a user, as a Surface: checked here, analysed in a sandbox, cached.

`formula_surface(text, domain)`:

1. checks the text in this process (pure Python, bounded by the caps in expressions.py), so
   most mistakes are answered at once with their position;
2. looks the normalised formula and domain up in an LRU cache, so dragging θ₀ or re-running on
   the same formula never recompiles;
3. on a miss, runs worker.analyse (SymPy: build, differentiate, print; numpy: stationary
   points) in a child process under a time limit (sandbox.py);
4. lambdifies the returned expressions here and builds the Surface, whose minima, saddles and
   maxima are the stationary points found.

A formula's verdict is cached (its Surface, or the error that refuses it), but not a timeout:
how long an analysis takes depends on how busy the machine is, so a formula that ran out of time
is analysed afresh on the next request. Identical concurrent analyses (same formula and domain)
are merged: one runs, the others wait for it and share its answer.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from app.core.formulas import sandbox
from app.core.formulas.errors import (
    ExpressionError,
    FormulaBusyError,
    FormulaTimeoutError,
    FormulaTooLargeError,
)
from app.core.formulas.expressions import check
from app.core.singleflight import Flights
from app.core.surfaces import stationary
from app.core.surfaces.surface import Domain, Surface

log = logging.getLogger("app.formulas")

TIMEOUT = 1.2  # seconds of SymPy work a formula may take (well inside the 2 s the issue allows)
CACHE_SIZE = 128

DEFAULT_DOMAIN = Domain((-5.0, 5.0), (-5.0, 5.0))


@dataclass(frozen=True)
class Formula:
    surface: Surface
    analysis: object  # worker.Analysis (imported lazily: it pulls in SymPy)


_Key = tuple[str, tuple[float, float], tuple[float, float]]


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[_Key, Formula | ExpressionError] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: _Key) -> Formula | ExpressionError | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: _Key, value: Formula | ExpressionError) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


CACHE = _LRU(CACHE_SIZE)
_FLIGHTS: Flights[Formula] = Flights()


def _surface(analysis: object, domain: Domain) -> Surface:
    from app.core.formulas.worker import Analysis, surface_from

    assert isinstance(analysis, Analysis)
    minima, saddles, maxima = stationary.minima_saddles_maxima(analysis.points)
    surface = surface_from(
        analysis.exprs,
        domain,
        id="expression",
        name=f"f(x, y) = {analysis.f.text}",
        formula=f"f(x, y) = {analysis.f.latex}",
        description="Your formula: its stationary points were found numerically, by Newton's "
        "method on ∇f = 0 from many starts.",
        default_start=analysis.default_start,
        default_eta=analysis.default_eta,
        minima=minima,
        saddles=saddles,
        maxima=maxima,
        log_colors=analysis.log_colors,
    )
    stationary.remember(surface, analysis.points)
    return surface


def formula_surface(
    text: str, domain: Domain = DEFAULT_DOMAIN, *, timeout: float | None = None
) -> Formula:
    """The formula as a Surface on `domain`; an ExpressionError subclass explains a refusal.
    `timeout` defaults to TIMEOUT (read at call time, so tests can lower it)."""
    timeout = TIMEOUT if timeout is None else timeout
    checked = check(text)
    key: _Key = (checked.normalized, domain.x, domain.y)
    cached = CACHE.get(key)
    if isinstance(cached, ExpressionError):
        raise cached
    if cached is not None:
        return cached
    return _FLIGHTS.run(key, lambda: _analyse(key, text, domain, timeout))


def _analyse(key: _Key, text: str, domain: Domain, timeout: float) -> Formula:
    cached = CACHE.get(key)  # a flight that ended just before this one began
    if isinstance(cached, ExpressionError):
        raise cached
    if cached is not None:
        return cached
    from app.core.formulas import worker

    try:
        analysis = sandbox.run(worker.analyse, text, domain.x, domain.y, timeout=timeout)
    except sandbox.SandboxBusy as exc:
        raise FormulaBusyError(f"The server is busy ({exc}); try again in a moment") from None
    except sandbox.SandboxTimeout:
        # Not cached: measured in the child's CPU time it is a fair verdict, but a request
        # later may still succeed (a caller may also have lowered the limit).
        raise FormulaTimeoutError(
            f"Differentiating this formula took longer than {timeout:g} s of CPU time; simplify it"
        ) from None
    except sandbox.SandboxCrashed as exc:
        log.warning("formula %r: %s", text, exc)
        error: ExpressionError = FormulaTooLargeError(
            "This formula needs too much memory to differentiate; simplify it", kind="out_of_memory"
        )
        CACHE.put(key, error)
        raise error from None
    except ExpressionError as exc:
        CACHE.put(key, exc)
        raise
    except Exception as exc:  # noqa: BLE001 — SymPy gave up (RecursionError, MemoryError, …)
        log.warning("formula %r failed in the worker: %r", text, exc)
        error = FormulaTooLargeError(
            f"SymPy could not differentiate this formula ({type(exc).__name__}); simplify it",
            kind="failed",
        )
        CACHE.put(key, error)
        raise error from None
    try:
        formula = Formula(_surface(analysis, domain), analysis)
    except (RecursionError, MemoryError, SyntaxError, ValueError, TypeError) as exc:
        log.warning("formula %r could not be compiled: %r", text, exc)
        error = FormulaTooLargeError(
            f"This formula could not be compiled to numpy ({type(exc).__name__}); simplify it",
            kind="failed",
        )
        CACHE.put(key, error)
        raise error from None
    CACHE.put(key, formula)
    return formula
