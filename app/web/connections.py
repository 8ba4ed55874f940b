"""Connection hygiene for uvicorn's httptools protocol: one client must not hold a worker.

uvicorn has no cap on header size with httptools (which concatenates an endless header value in
memory at 100 % CPU), no time limit for a request's headers (a connection that sends nothing, or
a few bytes at a time, is kept for ever) and no per-connection refusal (its `limit_concurrency`
answers 503 to every request, the existing connections' included, once there are too many).
`GuardedHttpToolsProtocol` adds the three:

- request line + headers over `header_max_bytes` get 431 and the connection is closed;
- headers not complete within `header_timeout` seconds of the connection or of the request's
  first byte: 408 (or nothing if nothing came) and the connection is closed;
- a connection beyond `max_connections` open ones in this worker gets 503 to its first request
  (or is closed after a second if it sends none); the open connections carry on.

A refusal is written, then the sending side is shut (FIN) and what the client still sends is read
and dropped for a moment before closing, so the client reads the answer instead of a reset.
Select it with `uvicorn.run(..., http="app.web.connections:GuardedHttpToolsProtocol")`; the limits
come from the settings (DESCENT_HEADER_MAX_BYTES, DESCENT_HEADER_TIMEOUT, DESCENT_MAX_CONNECTIONS).
"""

from __future__ import annotations

import asyncio
import http
import logging
import resource
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.settings import get_settings

__all__ = ["GuardedHttpToolsProtocol", "PROTOCOL"]

PROTOCOL = "app.web.connections:GuardedHttpToolsProtocol"
LINGER = 2.0  # seconds a refused connection is drained before it is closed
REFUSED_IDLE = 1.0  # seconds a connection over the cap may stay without sending a request
log = logging.getLogger("app.connections")


def answer(status: int, text: str) -> bytes:
    """A complete HTTP/1.1 response that closes the connection, with a plain-text body."""
    body = (text + "\n").encode()
    return b"".join(
        [
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode(),
            b"content-type: text/plain; charset=utf-8\r\n",
            f"content-length: {len(body)}\r\n".encode(),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


def descriptors_for_connections() -> int:
    """The file descriptors this process may open, less a margin for its own files and pipes."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft - 64 if soft != resource.RLIM_INFINITY else 1 << 20


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_max_bytes = settings.header_max_bytes
        self.header_timeout = float(settings.header_timeout)
        self.max_connections = min(settings.max_connections, descriptors_for_connections())
        self.awaiting_headers = True  # between requests, or inside a request's headers
        self.header_bytes = 0  # bytes received since the current request's headers began
        self.parsed_bytes = 0  # the current request's line and headers, as parsed
        self.header_timer: asyncio.TimerHandle | None = None
        self.over_cap = False
        self.closing = False  # a refusal was sent: drop whatever still comes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.over_cap = True
            self.header_timer = self.loop.call_later(REFUSED_IDLE, self.transport.close)
        else:
            self.start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if self.over_cap:
            self.refuse(503, "Too many connections to this server; retry in a moment.")
            return
        if self.awaiting_headers:
            self.header_bytes += len(data)
            if self.header_timer is None:  # a new request on a kept-alive connection
                self.start_header_timer()
        super().data_received(data)
        if self.awaiting_headers and self.header_bytes > self.header_max_bytes:
            self.refuse_too_large()

    def on_message_begin(self) -> None:
        self.parsed_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self.parsed_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.parsed_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.awaiting_headers = False
        self.header_bytes = 0
        self.cancel_header_timer()
        if self.closing:
            return
        if self.parsed_bytes > self.header_max_bytes:  # complete, but arrived in one piece
            self.refuse_too_large()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.closing:  # else: the rest of a refused request's chunk
            super().on_body(body)

    def on_message_complete(self) -> None:
        self.awaiting_headers = True
        if not self.closing:
            super().on_message_complete()

    def start_header_timer(self) -> None:
        self.cancel_header_timer()
        self.header_timer = self.loop.call_later(self.header_timeout, self.headers_timed_out)

    def cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def headers_timed_out(self) -> None:
        self.header_timer = None
        if self.transport.is_closing() or not self.awaiting_headers:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still on its way; the next request's headers can wait
        if self.header_bytes:
            self.refuse(408, f"The request's headers took over {self.header_timeout:g} s.")
        else:
            self.transport.close()

    def refuse_too_large(self) -> None:
        self.refuse(
            431,
            f"The request line and headers are too large: "
            f"the limit is {self.header_max_bytes:,} bytes.",
        )

    def refuse(self, status: int, text: str) -> None:
        """Send `status` with `text`, shut our side and drain the client's for a moment."""
        if self.transport.is_closing():
            return  # uvicorn already answered (400 for a malformed request) and closed it
        log.warning("refused a connection with %d: %s", status, text)
        self.closing = True
        self.cancel_header_timer()
        self.transport.write(answer(status, text))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.header_timer = self.loop.call_later(LINGER, self.transport.close)
        else:
            self.transport.close()
