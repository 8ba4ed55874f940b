"""`python -m app`: serve Descent Lab with uvicorn on HOST:PORT (default 127.0.0.1:8000)."""

import uvicorn

from app.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run("app.main:app", host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
