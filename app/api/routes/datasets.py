from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from app.api.dataset_schemas import DatasetOut, ModelKind, UploadOut
from app.api.datasets import dataset_to_dict
from app.api.json import JSONResponse
from app.api.schemas import ErrorOut
from app.core.data import (
    BUILTINS,
    MAX_BYTES,
    MAX_ROWS,
    DataError,
    digest,
    parse_csv,
    suitable_kinds,
)

router = APIRouter(prefix="/api/datasets", tags=["datasets"])

UPLOAD_DOC = f"""Send the CSV file itself as the body (`Content-Type: text/csv`), at most
{MAX_BYTES:,} bytes (1 MB) and {MAX_ROWS:,} data rows: two numeric columns x, y separated by a
comma, one point per line; a header row is optional (it is recognised when neither of its fields
is a number), blank lines are skipped. With `kind=logistic`, every y must be 0 or 1 and both must
occur.

```sh
curl -s 'localhost:8000/api/datasets?kind=logistic' -H 'content-type: text/csv' \\
     --data-binary @- <<'CSV'
x,y
-2.1,0
-1.3,0
-0.4,1
0.2,0
0.9,1
1.8,1
CSV
```

The answer holds the parsed points: put them in any surface description as
`{{"kind": "logistic", "data": {{"x": [...], "y": [...]}}}}`. Nothing is stored on the server.
Errors name the row (rows are numbered as lines of the file, the header being row 1) and the
problem: a 413 for a body over 1 MB, a 422 for anything else."""

TOO_LARGE = (
    f"The file is larger than 1 MB: at most {MAX_BYTES:,} bytes are allowed "
    f"(about {MAX_ROWS:,} rows of x,y)."
)


@router.get("", response_model=list[DatasetOut], summary="List the built-in datasets")
def list_datasets() -> JSONResponse:
    """Every built-in dataset with its points, the model it was made for (`kind`) and every
    model it suits (`kinds`)."""
    return JSONResponse([dataset_to_dict(d) for d in BUILTINS.values()])


@router.api_route("", methods=["PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False)
def other_methods() -> None:
    """405 that lists both methods of this path (routing alone would name only the first)."""
    raise HTTPException(405, "Method Not Allowed: use GET or POST", headers={"Allow": "GET, POST"})


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(413, TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise HTTPException(413, TOO_LARGE)
    return bytes(body)


def _parse(body: bytes, kind: ModelKind | None) -> dict[str, Any]:
    try:
        x, y, header = parse_csv(body, kind)
    except DataError as exc:
        raise HTTPException(422, exc.message) from None
    return {
        "n": int(x.size),
        "x": x,
        "y": y,
        "kinds": list(suitable_kinds(y)),
        "header": header,
        "digest": digest(x, y),
    }


@router.post(
    "",
    response_model=UploadOut,
    summary="Parse and validate a CSV of points (x, y)",
    description=UPLOAD_DOC,
    responses={
        413: {"model": ErrorOut, "description": "The body is over 1 MB"},
        422: {"model": ErrorOut, "description": "Bad data: `message` names the row and problem"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "hours,passed\n0.5,0\n1.5,0\n2.0,1\n3.5,1\n",
                }
            },
        }
    },
)
async def upload_dataset(
    request: Request,
    kind: Annotated[
        ModelKind | None,
        Query(description="Check the data suit this model (logistic: labels 0 and 1)"),
    ] = None,
) -> JSONResponse:
    body = await _read_limited(request)
    return JSONResponse(await run_in_threadpool(_parse, body, kind))
