from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from app.api.json import JSONResponse
from app.api.schemas import ErrorOut
from app.lessons import LESSONS, lesson

router = APIRouter(prefix="/api/lessons", tags=["lessons"])


class LessonOut(BaseModel):
    id: int
    slug: str
    title: str
    text: list[str] = Field(description="Two or three sentences, one per item")
    question: str = Field(description="What the learner should try")
    views: dict[str, bool] = Field(
        description="Views to show: basins, gradient_field, race, …; network (lessons on a "
        "network: the network view with its sharpness or slice panel)"
    )
    runs: list[dict[str, Any]] = Field(
        description="The runs to show, each a request body plus a `label`: a POST /api/descent "
        "body, or with `api` the network endpoint it is for (/api/networks/train or /slice)"
    )
    expect: list[dict[str, Any]] = Field(description="What each run shows (checked by the tests)")


@router.get("", response_model=list[LessonOut], summary="The lessons, in order")
def list_lessons() -> JSONResponse:
    """The lecture's points as guided scenarios; each sets the whole state of the page."""
    return JSONResponse(LESSONS)


@router.get(
    "/{lesson_id}",
    response_model=LessonOut,
    responses={404: {"model": ErrorOut, "description": "No such lesson"}},
    summary="One lesson",
)
def get_lesson(lesson_id: Annotated[int, Path(examples=[3])]) -> JSONResponse:
    try:
        return JSONResponse(lesson(lesson_id))
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from None
