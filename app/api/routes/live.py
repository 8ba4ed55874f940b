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
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

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


async def answer(text: str, settings: Settings) -> dict[str, Any]:
    """The answer to one message (never raises for bad input)."""
    if len(text.encode()) > settings.max_body_bytes:
        message = (
            f"The message is larger than this server's limit of {settings.max_body_bytes:,} bytes."
        )
        return {"id": _message_id(text), "status": 413, "error": {"message": message}}
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        message = f"The message is not valid JSON ({exc})."
        return {"id": None, "status": 422, "error": {"message": message}}
    try:
        message_ = LiveMessage.model_validate_json(text)
    except ValidationError as exc:
        body = validation_body(_without_envelope(exc.errors()))
        return {"id": _message_id(text), "status": 422, "error": body}
    request = message_.request
    try:
        if short_run(request):
            result = whole_run(request, settings)
        else:
            result = await run_in_threadpool(whole_run, request, settings)
    except HTTPException as exc:
        return {"id": message_.id, "status": exc.status_code, "error": http_error_body(exc)}
    return {"id": message_.id, "result": result}


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
                reply = await answer(text, settings)
            except Exception:  # noqa: BLE001 - logged; the socket stays usable
                log.exception("live run failed")
                reply = {
                    "id": _message_id(text),
                    "status": 500,
                    "error": {"message": "Internal server error: the failure was logged."},
                }
            await socket.send_text(dumps(reply).decode())
    except (WebSocketDisconnect, KeyError, RuntimeError):
        return  # the client closed, or sent a binary frame (no "text" in it)
    finally:
        reader.cancel()
