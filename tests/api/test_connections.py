"""Connection hygiene (issue 15, item 1), against `python -m app` on a free loopback port with
small limits: an endless header gets 431 and the connection is closed; a connection idle in its
headers is closed after the header timeout; a connection beyond the cap gets 503 while the open
ones carry on. The only timing bounds are generous ones (a timeout of 1 s must close within 20 s).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from app.web.serve import running_app

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
LIMITS = {
    "DESCENT_HEADER_MAX_BYTES": "8192",
    "DESCENT_HEADER_TIMEOUT": "1",
    "DESCENT_MAX_CONNECTIONS": "4",
}


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    with running_app(env=LIMITS) as url:
        parts = urlsplit(url)
        yield parts.hostname or "", parts.port or 0


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=20)


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout fails the test)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body, leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_an_unfinished_header_beyond_the_cap_gets_431_and_is_closed(address) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 20_000)
        response = read_to_end(sock)  # returns only once the server has closed its side
    assert status(response) == 431
    assert b"8,192 bytes" in response


def test_a_long_request_line_counts_too(address) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /healthz?" + b"q" * 20_000 + b" HTTP/1.1\r\nHost: test\r\n\r\n")
        assert status(read_to_end(sock)) == 431


def test_headers_under_the_cap_are_served(address) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 6_000 + b"\r\n\r\n")
        assert status(read_response(sock)) == 200


@pytest.mark.parametrize("sent", [b"", b"GET /healthz HTTP/1.1\r\nHost: te"])
def test_a_connection_idle_in_its_headers_is_closed_after_the_timeout(address, sent) -> None:
    with connect(address) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        response = read_to_end(sock)
        waited = time.monotonic() - started
    assert 0.5 < waited < 20  # DESCENT_HEADER_TIMEOUT=1: closed, neither at once nor never
    assert response == b"" if not sent else status(response) == 408


def test_a_kept_alive_connection_stalling_in_its_next_request_is_closed(address) -> None:
    with connect(address) as sock:
        sock.sendall(HEALTHZ)
        assert status(read_response(sock)) == 200
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # then nothing more
        assert status(read_to_end(sock)) == 408


def served_connections(address: tuple[str, int], n: int) -> list[socket.socket]:
    """`n` open connections, each served one /healthz; tried again while connections of earlier
    tests may still be closing on the server's side (and count against the cap)."""
    deadline = time.monotonic() + 20
    while True:
        socks = [connect(address) for _ in range(n)]
        answers = []
        for sock in socks:
            sock.sendall(HEALTHZ)
            answers.append(status(read_response(sock)))
        if answers == [200] * n or time.monotonic() > deadline:
            assert answers == [200] * n
            return socks
        for sock in socks:
            sock.close()


def test_connections_beyond_the_cap_are_refused_while_open_ones_still_work(address) -> None:
    held = served_connections(address, 4)  # the cap (DESCENT_MAX_CONNECTIONS=4), kept open
    try:
        with connect(address) as extra:
            extra.sendall(HEALTHZ)
            refused = read_to_end(extra)
        assert status(refused) == 503
        assert b"Too many connections" in refused
        held[0].sendall(HEALTHZ)  # an existing connection is still answered
        assert status(read_response(held[0])) == 200
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 20  # once they are closed, a new connection is served again
    while True:
        with connect(address) as sock:
            sock.sendall(HEALTHZ)
            answer = read_response(sock)
        if status(answer) == 200 or time.monotonic() > deadline:
            break
    assert status(answer) == 200
