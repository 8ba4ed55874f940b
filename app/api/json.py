"""Fast JSON for responses and JSON Lines: orjson, numpy-aware, with NaN and ±inf written as
null."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse as _JSONResponse

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTIONS)


def dumps_line(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)


class JSONResponse(_JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
