from collections import deque
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import StreamingResponse

from app.api.convert import Run, result_to_dict, step_to_dict, summary_fields
from app.api.deps import SettingsDep
from app.api.json import JSONResponse, dumps_line
from app.api.schemas import DESCENT_EXAMPLES, DescentRequest, DescentResult, ErrorOut
from app.core.runner import Iterate, descend
from app.core.summary import summarize
from app.settings import Settings

router = APIRouter(prefix="/api/descent", tags=["descent"])

Request = Annotated[DescentRequest, Body(openapi_examples=DESCENT_EXAMPLES)]
BAD_INPUT = {
    400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
    422: {"model": ErrorOut, "description": "Invalid request, explained in `message`"},
}
LINES_PER_WRITE = 256  # batch JSON Lines: one network write per many iterates
TAIL = 5  # recent losses kept to tell "still falling" from "oscillating"

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


def _resolve(request: DescentRequest, settings: Settings) -> Run:
    if request.max_steps > settings.max_steps:
        raise HTTPException(
            422, f"max_steps = {request.max_steps} is above this server's cap of {settings.max_steps}"
        )
    try:
        return Run(request)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _first(run: Run) -> tuple[Iterate, Iterator[Iterate]]:
    iterates = descend(run.surface, run.optimizer, run.theta0, run.rules, **run.options)
    try:
        return next(iterates), iterates
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post(
    "",
    response_model=DescentResult,
    responses=BAD_INPUT,
    summary="Run an optimizer to the end and return the whole path",
)
def run_descent(request: Request, settings: SettingsDep) -> JSONResponse:
    """Runs until ‖∇L‖ ≤ tol (converged), divergence, or `max_steps`; `path`, `loss` and `grad`
    hold θ_0 … θ_steps, and `message` explains the outcome."""
    run = _resolve(request, settings)
    first, rest = _first(run)
    iterates = [first, *rest]
    summary = summarize(
        run.surface,
        run.optimizer,
        run.theta0,
        run.rules,
        iterates[-1],
        [it.loss for it in iterates[-TAIL:]],
        start_t=first.t,
    )
    return JSONResponse(result_to_dict(run, iterates, summary))


def _lines(run: Run, first: Iterate, rest: Iterator[Iterate]) -> Iterator[bytes]:
    yield dumps_line(run.start_line()) + dumps_line(step_to_dict(first))
    last = first
    tail: deque[float] = deque([first.loss], maxlen=TAIL)
    batch: list[bytes] = []
    for it in rest:
        batch.append(dumps_line(step_to_dict(it)))
        tail.append(it.loss)
        last = it
        if len(batch) >= LINES_PER_WRITE:
            yield b"".join(batch)
            batch.clear()
    summary = summarize(
        run.surface, run.optimizer, run.theta0, run.rules, last, list(tail), start_t=first.t
    )
    batch.append(dumps_line({"type": "end", **summary_fields(run, summary)}))
    yield b"".join(batch)


@router.post(
    "/stream",
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
def stream_descent(request: Request, settings: SettingsDep) -> StreamingResponse:
    run = _resolve(request, settings)
    first, rest = _first(run)
    return StreamingResponse(_lines(run, first, rest), media_type="application/x-ndjson")
