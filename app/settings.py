"""Settings from environment variables, read once through a cached getter that tests override."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"Environment variable {name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # uvicorn worker processes (WEB_CONCURRENCY)
    max_steps: int = 10_000  # cap on max_steps of one run (DESCENT_MAX_STEPS)
    grid_max_n: int = 400  # cap on grid points per axis
    max_body_bytes: int = 2 * 1024 * 1024  # larger request bodies get 413 (DESCENT_MAX_BODY_BYTES)
    cors_origins: tuple[
        str, ...
    ] = ()  # CORS is off unless origins are listed (DESCENT_CORS_ORIGINS)
    # Seconds an idle keep-alive connection stays open (DESCENT_KEEP_ALIVE). Longer than the idle
    # timeout of clients and load balancers (httpx 5 s, nginx and cloud balancers 60 s), so the
    # server never closes a connection just as a client reuses it: with uvicorn's 5 s, that race
    # broke a few requests in 10,000 under benchmarks/load.py.
    keep_alive: int = 75
    # Connection hygiene (app/web/connections.py), per worker: request line + headers over
    # header_max_bytes get 431 (DESCENT_HEADER_MAX_BYTES); headers must arrive within
    # header_timeout seconds (DESCENT_HEADER_TIMEOUT); connections beyond max_connections get 503
    # (DESCENT_MAX_CONNECTIONS; below the file-descriptor limit, with room for normal clients
    # beside 2,000 half-open ones).
    header_max_bytes: int = 32 * 1024
    header_timeout: int = 10
    max_connections: int = 4096

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            host=env.get("HOST") or cls.host,
            port=_int(env, "PORT", cls.port),
            workers=_int(env, "WEB_CONCURRENCY", cls.workers),
            max_steps=_int(env, "DESCENT_MAX_STEPS", cls.max_steps),
            grid_max_n=_int(env, "DESCENT_GRID_MAX_N", cls.grid_max_n),
            max_body_bytes=_int(env, "DESCENT_MAX_BODY_BYTES", cls.max_body_bytes),
            keep_alive=_int(env, "DESCENT_KEEP_ALIVE", cls.keep_alive),
            header_max_bytes=_int(env, "DESCENT_HEADER_MAX_BYTES", cls.header_max_bytes),
            header_timeout=_int(env, "DESCENT_HEADER_TIMEOUT", cls.header_timeout),
            max_connections=_int(env, "DESCENT_MAX_CONNECTIONS", cls.max_connections),
            cors_origins=tuple(
                o.strip() for o in env.get("DESCENT_CORS_ORIGINS", "").split(",") if o.strip()
            ),
        )


@lru_cache
def get_settings() -> Settings:
    return Settings.from_env()
