"""static/ served with cache headers a browser can trust.

The page links `/static/v-<version>/js/main.js`; relative imports inside the modules inherit the
versioned prefix, so every module is cached for a year and a change to any file changes every URL.
Unversioned paths (`/static/css/app.css`) still work, revalidated by ETag. A versioned file is
compressed once (gzip and Brotli, app/web/assets.py) and sent as the request's Accept-Encoding
allows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.web import assets
from app.web.assets import Encoded, SingleFlight

IMMUTABLE = "public, max-age=31536000, immutable"


def static_version(directory: Path) -> str:
    """Changes whenever a file under `directory` is added, removed or modified."""
    h = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            stat = path.stat()
            h.update(
                f"{path.relative_to(directory).as_posix()}:{stat.st_size}:{stat.st_mtime_ns};".encode()
            )
    return h.hexdigest()[:10]


class VersionedStaticFiles(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory)
        self.root = directory
        # (version, file) → its encodings; a new version (any file changed) is a new key
        self.encoded: SingleFlight[tuple[str, str], Encoded] = SingleFlight(
            lambda key: assets.encode(Path(key[1]).read_bytes())
        )

    async def get_response(self, path: str, scope: Scope) -> Response:
        head, _, rest = path.partition("/")
        if head.startswith("v-") and rest:
            response = await super().get_response(rest, scope)
            if response.status_code == 200 and head == f"v-{static_version(self.root)}":
                if isinstance(response, FileResponse) and response.media_type:
                    asset = self.encoded.get((head, str(response.path)))
                    return assets.respond(asset, Request(scope), response.media_type, IMMUTABLE)
                response.headers["Cache-Control"] = IMMUTABLE
            return response
        return await super().get_response(path, scope)
