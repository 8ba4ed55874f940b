"""`python -m app`: serve Descent Lab with uvicorn on HOST:PORT (default 127.0.0.1:8000), with
WEB_CONCURRENCY worker processes (default 1)."""

import copy
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from app.settings import get_settings
from app.web.connections import PROTOCOL


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the app's own loggers: one JSON access line per request (with its
    request id) replaces uvicorn's access log; errors go to stderr with their traceback."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["plain"] = {"format": "%(message)s"}
    config["handlers"]["app"] = {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["app"] = {"handlers": ["app"], "level": "INFO", "propagate": False}
    return config


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=PROTOCOL,  # httptools with caps on header size and time, and on connections
        timeout_keep_alive=settings.keep_alive,
        access_log=False,
        log_config=log_config(),
    )


if __name__ == "__main__":
    main()
