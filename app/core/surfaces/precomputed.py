"""The presets' stationary points, kept in a JSON file between runs.

A worker needs them before it takes traffic (app/main.py's lifespan), and computing them takes
about 0.5 s, several seconds on a busy machine. So they are computed once, at image build time
(the Dockerfile runs `warm_presets`) or by the first worker that starts, written to
`$DESCENT_CACHE_DIR` (default `~/.cache/descent-lab`), and every later worker reads them. The
file name carries a fingerprint of the code that defines them (the presets, Surface and the
search), so a changed preset is never served stale points; a file that cannot be read or written
only means they are computed, as before. JSON, not pickle: reading it executes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from app.core.surfaces import presets, stationary, surface
from app.core.surfaces.presets import PRESETS
from app.core.surfaces.stationary import StationaryPoint, remember, stationary_points

CACHE_ENV = "DESCENT_CACHE_DIR"


def fingerprint() -> str:
    digest = hashlib.sha256(np.__version__.encode())
    for module in (presets, stationary, surface):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def cache_file() -> Path:
    folder = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "descent-lab"
    return Path(folder) / f"stationary-{fingerprint()}.json"


def _load(path: Path) -> dict[str, tuple[StationaryPoint, ...]] | None:
    try:
        raw = json.loads(path.read_text())
        return {
            sid: tuple(
                StationaryPoint(
                    float(p["x"]),
                    float(p["y"]),
                    float(p["value"]),
                    p["kind"],
                    bool(p["degenerate"]),
                    (float(p["eigenvalues"][0]), float(p["eigenvalues"][1])),
                )
                for p in points
            )
            for sid, points in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _save(path: Path, found: dict[str, tuple[StationaryPoint, ...]]) -> None:
    data = {
        sid: [
            {
                "x": p.x,
                "y": p.y,
                "value": p.value,
                "kind": p.kind,
                "degenerate": p.degenerate,
                "eigenvalues": list(p.eigenvalues),
            }
            for p in points
        ]
        for sid, points in found.items()
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump(data, f)
        os.chmod(f.name, 0o644)  # readable by the server's user when the image build wrote it
        os.replace(f.name, path)  # atomic: a worker reading it sees the old file or the new
    except OSError:
        pass


def warm_presets() -> bool:
    """Make every preset's stationary points known (stationary.stationary_points answers from
    memory afterwards); True if they were read from the cache file."""
    path = cache_file()
    loaded = _load(path)
    if loaded is not None and set(loaded) == set(PRESETS):
        for sid, points in loaded.items():
            remember(PRESETS[sid], points)
        return True
    _save(path, {sid: stationary_points(s) for sid, s in PRESETS.items()})
    return False
