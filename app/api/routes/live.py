"""WebSocket /api/descent/live: whole runs for a page that drags θ₀, η or a hyperparameter.

The page sends each new setting as a text message `{"id": n, "request": {...}}` (`request` is
a body of POST /api/descent) without waiting for the answers. The server computes one at a
time, always the newest it has received: a setting that a newer one supersedes before its turn
is dropped unanswered. Each answer is `{"id": n, "result": {...}}` (the body POST /api/descent
answers, serialised the same way) or `{"id": n, "status": 422, "error": {"message", "detail"}}`
(the body of the HTTP error the same request would get). Answers leave in the order of their
ids, so the newest answer is always the last one. The checks are POST /api/descent's: the same
validation, the server's max_steps cap, the work budget (app/api/budget.py) and the deadline.
A message longer than the server's body limit is refused (413) like a body, and one that is not
JSON of that shape gets a 422 (with `id` null when it cannot be read).

A message with `"binary": true` gets its result (not an error) as one binary frame instead, the
same numbers without printing and parsing them (the page's drag reads ~40 a second, 100 kB each
as JSON for a run of 1,000 steps): a little-endian uint32 H, then H bytes of UTF-8 JSON
`{"id", "n", "m", "result"}` (`result` without its four columns), zero bytes up to a multiple
of 8, then float64s: `path` (n rows x, y), `loss` (n), `grad` (n rows) and `eta` (m). Values that
overflowed are IEEE NaN or ±inf there, where the JSON answer has null.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.deps import SettingsDep
from app.api.errors import http_error_body, validation_body
from app.api.json import dumps
from app.api.routes.descent import short_run, whole_run
from app.api.schemas import DescentRequest
from app.settings import Settings

log = logging.getLogger("app.live")

router = APIRouter(tags=["descent"])


class LiveMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=0, le=2**53)  # the page's counter: answers carry it back
    request: DescentRequest
    binary: bool = False  # a result as one binary frame (see the module's docstring)


COLUMNS = ("path", "loss", "grad", "eta")


def pack(reply: dict[str, Any]) -> bytes:
    """A result reply as the binary frame described in the module's docstring."""
    result = reply["result"]
    columns = [np.ascontiguousarray(result[name], dtype="<f8") for name in COLUMNS]
    rest = {k: v for k, v in result.items() if k not in COLUMNS}
    header = dumps({"id": reply["id"], "n": len(columns[0]), "m": len(columns[3]), "result": rest})
    start = 4 + len(header)
    padding = b"\0" * (-start % 8)
    return b"".join(
        [len(header).to_bytes(4, "little"), header, padding, *(c.tobytes() for c in columns)]
    )


async def reply_to(text: str, settings: Settings) -> str | bytes:
    """The frame that answers one message: text, or binary for a result the message asked for
    in binary."""
    reply, binary = await answer(text, settings)
    return pack(reply) if binary and "result" in reply else dumps(reply).decode()


def _message_id(text: str) -> int | None:
    """The id of a message that did not validate, if it has a readable one."""
    try:
        value = orjson.loads(text).get("id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _without_envelope(errors: list[Any]) -> list[Any]:
    """Locations of the request's own fields as POST /api/descent gives them: `body.theta0`."""
    out = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        out.append(
            {**e, "loc": ("body", *loc[1:]) if loc[:1] == ("request",) and len(loc) > 1 else loc}
        )
    return out


async def answer(text: str, settings: Settings) -> tuple[dict[str, Any], bool]:
    """The answer to one message (never raises for bad input), and whether it asked for binary."""
    if len(text.encode()) > settings.max_body_bytes:
        message = (
            f"The message is larger than this server's limit of {settings.max_body_bytes:,} bytes."
        )
        return {"id": _message_id(text), "status": 413, "error": {"message": message}}, False
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        message = f"The message is not valid JSON ({exc})."
        return {"id": None, "status": 422, "error": {"message": message}}, False
    try:
        message_ = LiveMessage.model_validate_json(text)
    except ValidationError as exc:
        body = validation_body(_without_envelope(exc.errors()))
        return {"id": _message_id(text), "status": 422, "error": body}, False
    request = message_.request
    try:
        if short_run(request):
            result = whole_run(request, settings)
        else:
            result = await run_in_threadpool(whole_run, request, settings)
    except HTTPException as exc:
        return {
            "id": message_.id,
            "status": exc.status_code,
            "error": http_error_body(exc),
        }, False
    return {"id": message_.id, "result": result}, message_.binary


@router.websocket("/api/descent/live")
async def live_runs(socket: WebSocket, settings: SettingsDep) -> None:
    await socket.accept()
    newest: list[str] = []  # at most one message waits: the newest
    arrived = asyncio.Event()

    async def receive() -> None:
        while True:
            text = await socket.receive_text()
            newest[:] = [text]  # supersedes a message not yet started
            arrived.set()

    reader = asyncio.create_task(receive())
    try:
        while True:
            waiter = asyncio.create_task(arrived.wait())
            await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if reader.done():
                waiter.cancel()
                reader.result()  # the client left (WebSocketDisconnect) or sent bytes
                return
            arrived.clear()
            text = newest.pop()
            try:
                frame = await reply_to(text, settings)
            except Exception:  # noqa: BLE001 - logged; the socket stays usable
                log.exception("live run failed")
                error = {"message": "Internal server error: the failure was logged."}
                frame = dumps({"id": _message_id(text), "status": 500, "error": error}).decode()
            if isinstance(frame, bytes):
                await socket.send_bytes(frame)
            else:
                await socket.send_text(frame)
    except (WebSocketDisconnect, KeyError, RuntimeError):
        return  # the client closed, or sent a binary frame (no "text" in it)
    finally:
        reader.cancel()
