"""Error responses a person can read: `message` in words, `detail` in FastAPI's structure.

Validation errors never echo the raw input back (a NaN in it would not encode as JSON), and
unexpected errors are logged with their cause and answered without a traceback.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.json import JSONResponse
from app.core.descent import CATALOGUE, SCHEDULES

log = logging.getLogger("app.errors")

# The tags of the optimizer and schedule unions: optimizer.gd.eta → optimizer.eta
_UNION_TAGS = {spec.name for spec in CATALOGUE} | set(SCHEDULES)
_UNIONS = {"optimizer", "schedule"}
# The kinds of surface description (schemas.SurfaceSpec): surface.dataset.l2 → surface.l2
_UNION_TAGS |= {"preset", "formula", "dataset"}
_UNIONS |= {"surface"}
# The kinds of a network's data (network_schemas.NetworkDataIn): data.toy.noise → data.noise
_UNION_TAGS |= {"toy", "points"}
_UNIONS |= {"data"}


def _describe(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        # repr of a 4,300-digit integer would fill the message (and beyond 4,300 digits fail)
        digits = math.floor((value.bit_length() - 1) * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits:,} digits"
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    return type(value).__name__


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    # Drop the tag that pydantic inserts for discriminated unions: optimizer.gd.eta → optimizer.eta
    parts = [
        p
        for i, p in enumerate(parts)
        if not (i > 0 and parts[i - 1] in _UNIONS and p in _UNION_TAGS)
    ]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def _readable(error: dict[str, Any]) -> dict[str, Any]:
    loc = tuple(error.get("loc", ()))
    msg = str(error.get("msg", "invalid value"))
    if error.get("type") == "json_invalid":
        position = loc[-1] if len(loc) > 1 else "?"
        reason = (error.get("ctx") or {}).get("error", "")
        msg = (
            f"The body is not valid JSON (at character {position}{': ' + reason if reason else ''})"
        )
        loc = ("body",)
    if loc == ("body",) and isinstance(error.get("input"), (bytes, str)):
        # FastAPI leaves a body it did not parse as JSON (another Content-Type) as raw bytes.
        return {
            "loc": ["body"],
            "msg": "The body must be a JSON object, sent with Content-Type: application/json",
            "type": "json_type",
        }
    if "input" in error and error.get("type") not in ("missing", "json_invalid"):
        msg = f"{msg} (got {_describe(error['input'])})"
    return {"loc": [str(p) for p in loc], "msg": msg, "type": error.get("type", "value_error")}


def error_response(status_code: int, message: str, detail: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status_code,
        content={"message": message, "detail": detail if detail is not None else message},
    )


def validation_body(raw: Sequence[Any]) -> dict[str, Any]:
    """The 422 body (`message`, `detail`) for pydantic's or FastAPI's list of errors."""
    errors = [_readable(dict(e)) for e in raw]
    message = "; ".join(f"{_location(tuple(e['loc']))}: {e['msg']}" for e in errors)
    return {"message": message or "Invalid request", "detail": errors}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content=validation_body(exc.errors()))


# A run of this many characters without a space is an echo (an id, a number), not prose; its
# closing quotes and punctuation are kept.
_LONG_WORD = re.compile(r"(\S{81,}?)(['\")\]]*)([.,;:!?]*)(?=\s|$)")


def shorten(text: str) -> str:
    """`text` with every run of over 80 non-space characters cut to its first 40, saying how long
    it was: a 65,000-character id is not echoed back in full."""
    return _LONG_WORD.sub(lambda m: f"{m[1][:40]}…{m[2]} ({len(m[1]):,} characters){m[3]}", text)


def http_error_body(exc: StarletteHTTPException) -> dict[str, Any]:
    """The body (`message`, `detail`) of the answer to an HTTPException."""
    # A text detail is shortened; a structured one (a formula's, with its caret) is kept as is.
    raw: object = exc.detail  # typed str by Starlette, but ours may be a list (see above)
    detail = shorten(raw) if isinstance(raw, str) else raw
    message = detail if isinstance(detail, str) else "Request failed"
    if isinstance(detail, list):  # structured errors, e.g. a formula's, each with its msg
        msgs = [str(e["msg"]) for e in detail if isinstance(e, dict) and "msg" in e]
        message = "; ".join(msgs) or message
    if exc.status_code == 400 and message == "There was an error parsing the body":
        message = "The request body could not be read: send JSON encoded as UTF-8."
    return {"message": message, "detail": detail}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    response = JSONResponse(status_code=exc.status_code, content=http_error_body(exc))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error: the failure was logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
