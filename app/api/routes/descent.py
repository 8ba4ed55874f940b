"""POST /api/descent and its stream.

Both are served by `DescentRoute`, a FastAPI route whose OpenAPI description is FastAPI's own
(the `Body` parameter is declared as usual) but whose request handler, for a body sent as
`Content-Type: application/json`, validates the raw bytes with
`DescentRequest.model_validate_json` (pydantic-core parses and validates in one pass) instead of
FastAPI's json.loads-then-validate pipeline, and runs a short computation directly on the event
loop instead of hopping to the threadpool. Any body that this fast path does not accept goes
through FastAPI's own handler, unchanged: every error (422 with its readable message, 400 for an
unreadable body) is produced exactly as before, by the same code.
"""

from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.requests import Request as HTTPRequest
from starlette.responses import Response

from app.api import budget
from app.api.convert import ResolvedRun, step_to_dict, summary_fields, trajectory_to_dict
from app.api.deps import SettingsDep
from app.api.json import JSONResponse, dumps_line
from app.api.schemas import DESCENT_EXAMPLES, DescentRequest, DescentResult, ErrorOut
from app.core.descent import (
    COMPILED_PRESETS,
    Iterate,
    Trajectory,
    descend,
    summarize,
)
from app.core.descent import (
    DIAGNOSIS_TAIL as TAIL,
)
from app.settings import Settings, get_settings

# A run whose estimated cost is below INLINE_BUDGET_US is computed on the event loop; longer
# ones, and formula or dataset surfaces (compiled in a sandbox process, or heavy per step), in
# the threadpool. Worst cost per step over the presets, measured here (µs): plain GD (constant
# η, no line search) 0.03 where it is compiled (app.core.descent.compiled: every preset but
# Rastrigin) and 1.3 in Python (Rastrigin), Newton 8.4, every other optimizer or a schedule
# 3.9; a line search may evaluate the loss up to 60 times per step. So an inline run holds the
# loop for about 1 ms at most (e.g. compiled GD up to the 10,000-step cap, Python GD up to
# about 700 steps), which is less than a worker thread may hold the GIL anyway
# (sys.getswitchinterval() is 5 ms).
INLINE_BUDGET_US = 1000.0
STEP_COST_US = {"compiled_gd": 0.05, "plain_gd": 1.4, "newton": 8.5, "other": 4.0}


def short_run(request: DescentRequest) -> bool:
    """Is this run cheap enough to compute on the event loop?"""
    if not isinstance(request.surface, str) or getattr(request.optimizer, "line_search", None):
        return False
    params = request.optimizer
    if params is None or (params.name == "gd" and params.schedule is None):
        cost = STEP_COST_US["compiled_gd" if request.surface in COMPILED_PRESETS else "plain_gd"]
    else:
        cost = STEP_COST_US["newton" if params.name == "newton" else "other"]
    return request.max_steps * cost <= INLINE_BUDGET_US


def _first_only(request: DescentRequest) -> bool:
    """The stream's endpoint computes only the first iterate: short for every preset."""
    return isinstance(request.surface, str)


class DescentRoute(APIRoute):
    """A route whose endpoint is `f(request: DescentRequest, settings: SettingsDep)`, served
    with a fast path for JSON bodies (see the module's docstring); `short(request)` tells when
    the endpoint may run on the event loop."""

    short: Callable[[DescentRequest], bool] = staticmethod(lambda request: False)

    def get_route_handler(self) -> Callable[[HTTPRequest], Coroutine[Any, Any, Response]]:
        slow = super().get_route_handler()  # FastAPI's own handler: the reference behaviour
        endpoint, short = self.endpoint, self.short

        async def handler(request: HTTPRequest) -> Response:
            if request.headers.get("content-type", "").lower() != "application/json":
                return await slow(request)
            try:
                parsed = DescentRequest.model_validate_json(await request.body())
            except Exception:  # noqa: BLE001 - FastAPI's handler answers it, as it always did
                return await slow(request)  # (the body is cached: it reads the same bytes)
            overrides = getattr(request.scope.get("app"), "dependency_overrides", None) or {}
            settings = overrides.get(get_settings, get_settings)()
            if short(parsed):
                response: Response = endpoint(parsed, settings)
                return response
            return await run_in_threadpool(endpoint, parsed, settings)

        return handler


class _ShortRun(DescentRoute):
    short = staticmethod(short_run)


class _StreamStart(DescentRoute):
    short = staticmethod(_first_only)


router = APIRouter(prefix="/api/descent", tags=["descent"])

Request = Annotated[DescentRequest, Body(openapi_examples=DESCENT_EXAMPLES)]
BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
    422: {"model": ErrorOut, "description": "Invalid request, explained in `message`"},
}
LINES_PER_WRITE = 256  # batch JSON Lines: one network write per many iterates

STREAM_DOC = """JSON Lines (`application/x-ndjson`), one object per line:

```
{"type": "start", "surface": "himmelblau", "theta0": [-1.0, 1.0], "optimizer": {...}, ...}
{"type": "step", "t": 0, "theta": [-1.0, 1.0], "loss": 136.0, "grad": [-4.0, -28.0]}
...
{"type": "end", "status": "converged", "message": "...", "steps": 22, "final": {...},
 "nearest_minimum": {...}}
```

The steps are exactly those of `POST /api/descent`. The first iterate is sent at once; later
ones go out in batches. Works with `curl -N`."""


def _resolve(request: DescentRequest, settings: Settings) -> ResolvedRun:
    return _resolve_estimated(request, settings)[0]


def _resolve_estimated(
    request: DescentRequest, settings: Settings, *, short: bool = False
) -> tuple[ResolvedRun, float]:
    """The resolved run and its estimated CPU seconds (422 if over the budget). A `short` run
    (short_run: a preset, at most INLINE_BUDGET_US of work) is far inside the budget: it is not
    estimated again (0 is returned)."""
    if request.max_steps > settings.max_steps:
        raise HTTPException(
            422,
            f"max_steps = {request.max_steps} is above this server's cap of {settings.max_steps}",
        )
    try:
        run = ResolvedRun(request)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if short:
        return run, 0.0
    w = budget.work(request.optimizer, 1, request.max_steps, batch=False)
    return run, budget.check_run(run.surface, w, "This run")


def _first(run: ResolvedRun) -> tuple[Iterate, Iterator[Iterate]]:
    iterates = descend(run.surface, run.optimizer, run.theta0, run.rules, **run.options)
    try:
        return next(iterates), iterates
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def run_descent(request: Request, settings: SettingsDep) -> JSONResponse:
    """Runs until ‖∇L‖ ≤ tol (converged), divergence, or `max_steps`; `path`, `loss` and `grad`
    hold θ_0 … θ_steps, and `message` explains the outcome."""
    return JSONResponse(whole_run(request, settings))


def whole_run(request: DescentRequest, settings: Settings) -> dict[str, Any]:
    """The body of POST /api/descent's answer (also the live socket's, routes/live.py), with the
    same checks and work budget; raises HTTPException."""
    short = short_run(request)
    run, seconds = _resolve_estimated(request, settings, short=short)
    try:  # ValueError: the loss or its gradient is not finite at θ₀
        path = Trajectory(run.surface, run.optimizer, run.theta0, run.rules, **run.options)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if short:  # about a millisecond at most: no clock to look at
        path.extend(request.max_steps + 1)
    deadline = budget.Deadline()
    # Steps between two looks at the clock: about budget.CHUNK_SECONDS of estimated work.
    chunk = min(
        1 << 20, max(16, int(request.max_steps * budget.CHUNK_SECONDS / max(seconds, 1e-12)))
    )
    try:
        while path.status is None:
            path.extend(chunk)
            deadline.check()
    except budget.Stopped as exc:
        raise budget.stopped_error(exc) from None
    summary = summarize(
        run.surface,
        run.optimizer,
        run.theta0,
        run.rules,
        path.final,
        path.tail(TAIL),
        start_t=path.t0,
        stochastic=run.step_gradient is not None,
    )
    return trajectory_to_dict(run, path, summary)


def _rest(run: ResolvedRun, first: Iterate, rest: Iterator[Iterate]) -> Iterator[bytes]:
    """The lines after the first step's, LINES_PER_WRITE steps per chunk, then the end line."""
    last = first
    tail: deque[Iterate] = deque([first], maxlen=TAIL)
    batch: list[bytes] = []
    deadline = budget.Deadline()
    for it in rest:
        batch.append(dumps_line(step_to_dict(it)))
        tail.append(it)
        last = it
        if len(batch) >= LINES_PER_WRITE:
            yield b"".join(batch)
            batch.clear()
            try:
                deadline.check()
            except budget.Stopped as exc:
                yield dumps_line({"type": "error", "message": f"The run was stopped: {exc}"})
                return
    summary = summarize(
        run.surface,
        run.optimizer,
        run.theta0,
        run.rules,
        last,
        list(tail),
        start_t=first.t,
        stochastic=run.step_gradient is not None,
    )
    batch.append(dumps_line({"type": "end", **summary_fields(run, summary)}))
    yield b"".join(batch)


async def _lines(run: ResolvedRun, first: Iterate, rest: Iterator[Iterate]) -> AsyncIterator[bytes]:
    # The first step is already computed: it leaves from the event loop at once, without a
    # hop to a worker thread; the rest of the run is computed in the threadpool.
    yield dumps_line(run.start_line()) + dumps_line(step_to_dict(first))
    async for chunk in iterate_in_threadpool(_rest(run, first, rest)):
        yield chunk


def stream_descent(request: Request, settings: SettingsDep) -> StreamingResponse:
    run = _resolve(request, settings)
    first, rest = _first(run)
    return StreamingResponse(_lines(run, first, rest), media_type="application/x-ndjson")


# Declared as with @router.post, plus the route class (which the decorator cannot take).
router.add_api_route(
    "",
    run_descent,
    methods=["POST"],
    route_class_override=_ShortRun,
    response_model=DescentResult,
    responses=BAD_INPUT,
    summary="Run an optimizer to the end and return the whole path",
)
router.add_api_route(
    "/stream",
    stream_descent,
    methods=["POST"],
    route_class_override=_StreamStart,
    response_class=StreamingResponse,
    responses={
        200: {
            "description": STREAM_DOC,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **BAD_INPUT,
    },
    summary="Run an optimizer and stream its iterates as JSON Lines",
)
