from fastapi import APIRouter

from app.api.json import JSONResponse
from app.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="Liveness check")
async def healthz() -> JSONResponse:
    """Answers `{"status": "ok"}` while the server is up."""
    return JSONResponse({"status": "ok"})
