"""Compressed assets, computed once: gzip and Brotli encodings of a body, chosen by the request's
Accept-Encoding.

Each asset is compressed once per worker however many requests ask for it at the same moment
(single flight: the first caller computes, the others wait for its result), and the app's
lifespan computes the page's assets before the worker accepts traffic. Compressing Plotly's 4.8 MB
bundle takes ~2 s with gzip -9 and Brotli quality 5; Brotli's best quality (11) saves another
180 kB but takes 15-45 s here, so it is done ahead of time: `python -m app.web.assets` (run by
`make run` and the Dockerfile; quick when already done) writes the best encodings of the current
bundle to CACHE, named by the content's hash, and a worker that finds them there reads them
instead of compressing.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import brotli
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "CACHE",
    "Encoded",
    "SingleFlight",
    "cached",
    "encode",
    "negotiate",
    "respond",
    "write_cache",
]

CACHE = Path(
    os.environ.get("DESCENT_ASSET_CACHE") or Path(__file__).resolve().parents[2] / ".asset-cache"
)
FAST_BROTLI = 5  # ~1 s on the Plotly bundle: 1.29 MB, against gzip -9's 1.47 MB
BEST_BROTLI = 11  # 15-45 s on the Plotly bundle: 1.11 MB
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Encoded:
    raw: bytes
    gzip: bytes
    br: bytes
    etag: str  # a strong validator of the content, whatever its encoding

    def body(self, encoding: str | None) -> bytes:
        return {"br": self.br, "gzip": self.gzip}.get(encoding or "", self.raw)


def compress(raw: bytes, quality: int) -> tuple[bytes, bytes]:
    """(gzip -9, Brotli at `quality`) of `raw`, both reproducible byte for byte."""
    return (
        gzip.compress(raw, compresslevel=9, mtime=0),
        brotli.compress(raw, mode=brotli.MODE_TEXT, quality=quality),
    )


def encode(raw: bytes, cache: Path | None = None) -> Encoded:
    """`raw` with its encodings: read from `cache` if they were written there ahead of time,
    else compressed now."""
    digest = hashlib.sha256(raw).hexdigest()[:32]
    cached = cache and [cache / f"{digest}.{suffix}" for suffix in ("gz", "br")]
    if cached and all(path.is_file() for path in cached):
        gz, br = (path.read_bytes() for path in cached)
        if intact(raw, gz, br):
            return Encoded(raw, gz, br, f'"{digest[:16]}"')
    gz, br = compress(raw, FAST_BROTLI)
    return Encoded(raw, gz, br, f'"{digest[:16]}"')


def intact(raw: bytes, gz: bytes, br: bytes) -> bool:
    """Whether both encodings decode to `raw` (a cached file may be truncated or stale)."""
    try:
        return gzip.decompress(gz) == raw and brotli.decompress(br) == raw
    except (OSError, EOFError, zlib.error, brotli.error):
        return False


def cached(raw: bytes, cache: Path = CACHE) -> bool:
    """Whether `cache` holds intact encodings of `raw`."""
    digest = hashlib.sha256(raw).hexdigest()[:32]
    paths = [cache / f"{digest}.{suffix}" for suffix in ("gz", "br")]
    return all(p.is_file() for p in paths) and intact(raw, *(p.read_bytes() for p in paths))


def write_cache(raw: bytes, cache: Path = CACHE) -> None:
    """Write the best encodings of `raw` to `cache`, where `encode` finds them. Each file is
    written under a temporary name and renamed, so a worker never reads half of one."""
    digest = hashlib.sha256(raw).hexdigest()[:32]
    gz, br = compress(raw, BEST_BROTLI)
    cache.mkdir(parents=True, exist_ok=True)
    for suffix, body in (("gz", gz), ("br", br)):
        partial = cache / f"{digest}.{suffix}.{os.getpid()}.part"
        partial.write_bytes(body)
        partial.replace(cache / f"{digest}.{suffix}")


def negotiate(accept_encoding: str) -> str | None:
    """The encoding to send for this Accept-Encoding: "br", else "gzip", else None (identity).
    A coding is acceptable when it, or `*`, is listed without q=0."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip()] = q
    star = weights.get("*", 0.0)
    for coding in ("br", "gzip"):
        if weights.get(coding, star) > 0:
            return coding
    return None


def respond(
    asset: Encoded, request: Request, media_type: str, cache_control: str, compress: bool = True
) -> Response:
    """`asset` in the encoding the request accepts (identity if not `compress`), or 304 when the
    request's If-None-Match names its ETag."""
    headers = {"Cache-Control": cache_control, "ETag": asset.etag}
    if asset.etag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers={**headers, "Vary": "Accept-Encoding"})
    encoding = negotiate(request.headers.get("accept-encoding", "")) if compress else None
    if encoding:  # (an identity body gets its Vary from http.GZipMiddleware)
        headers.update({"Content-Encoding": encoding, "Vary": "Accept-Encoding"})
    return Response(asset.body(encoding), media_type=media_type, headers=headers)


class SingleFlight(Generic[K, V]):
    """A cache whose values are computed once: concurrent callers of `get` with the same key wait
    for the first caller's computation instead of starting their own. A failed computation is
    not cached: the next caller tries again."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        self.compute = compute
        self.lock = threading.Lock()
        self.results: dict[K, Future[V]] = {}

    def get(self, key: K) -> V:
        with self.lock:
            future = self.results.get(key)
            owner = future is None
            if future is None:
                future = self.results[key] = Future()
        if owner:
            try:
                future.set_result(self.compute(key))
            except BaseException as error:
                with self.lock:
                    del self.results[key]
                future.set_exception(error)
                raise
        return future.result()

    def clear(self) -> None:
        with self.lock:
            self.results.clear()


def main() -> None:
    """Write the best encodings of Plotly's bundle to CACHE unless they are there already
    (`make run` and the Dockerfile run this)."""
    from app.web.pages import PLOTLY_JS

    raw = PLOTLY_JS.read_bytes()
    if cached(raw, CACHE):
        return
    print(f"compressing Plotly's bundle at Brotli's best quality into {CACHE} (once, 15-45 s)")
    write_cache(raw, CACHE)


if __name__ == "__main__":
    main()
