"""POST /api/expressions: check a formula, typeset it and its gradient, find its stationary points.

The page calls it as the user types; the canonical `expression` it returns can then be used as
`{"surface": {"expression": ..., "domain": ...}}` in every endpoint that takes a surface (grid,
describe, descent, stream). Compiled formulas are cached, so those calls do not recompile.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body

from app.api.convert import stationary_to_dict, surface_to_dict
from app.api.json import JSONResponse
from app.api.resolve import resolve_formula
from app.api.schemas import ErrorOut, ExpressionOut, ExpressionSurface
from app.core.formulas import Analysis, Typeset

router = APIRouter(prefix="/api", tags=["expressions"])

EXAMPLES: dict[str, Any] = {
    "himmelblau": {
        "summary": "Himmelblau's function, typed",
        "value": {
            "expression": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
            "domain": {"x": [-5, 5], "y": [-5, 5]},
        },
    },
    "ripples": {
        "summary": "Ripples in a bowl",
        "value": {
            "expression": "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
            "domain": {"x": [-6, 6], "y": [-6, 6]},
        },
    },
    "syntax_error": {
        "summary": "A syntax error: 422 with its position",
        "value": {"expression": "x + * y"},
    },
}

ERRORS = """`message` explains the problem for a person; a mistake at a known place ends with the
formula and a caret under the column:

```
Syntax error (invalid syntax) at column 5:
x + * y
    ^
```

`detail` is a list with one object: `loc`, `msg` (= message), `type` (`syntax`, `unknown_name`,
`not_allowed`, `too_large`, `timeout`, `out_of_memory`, `failed`), `reason` (the message without
the formula), and when known `formula` (the text with outer spaces removed), `offset` and
`end_offset` (0-based indices into `formula`, end exclusive), `column` (1-based), `allowed` (the
names that are allowed) and `hint`. Invalid JSON or fields give FastAPI's list."""


def _typeset(t: Typeset) -> dict[str, str]:
    return {"text": t.text, "latex": t.latex, "mathml": t.mathml}


@router.post(
    "/expressions",
    response_model=ExpressionOut,
    responses={
        400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
        422: {"model": ErrorOut, "description": ERRORS},
        503: {"model": ErrorOut, "description": "Every formula worker is busy: retry shortly"},
    },
    summary="Check a formula; typeset f and ∇f; find its stationary points",
)
def post_expression(
    request: Annotated[ExpressionSurface, Body(openapi_examples=EXAMPLES)],
) -> JSONResponse:
    """Parses the formula without executing it (a whitelist over Python's syntax tree), builds it
    in SymPy, differentiates it and compiles f, ∇f and the Hessian to numpy, all in a separate
    process under a time limit. Returns the canonical form; LaTeX and presentation MathML of f
    and of each component of ∇f (Chromium renders MathML natively); the Hessian as text; the
    domain; the stationary points (Newton's method from many starts, classified by the
    Hessian's eigenvalues); and the full surface description."""
    formula = resolve_formula(request, ("body", "expression"))
    analysis = formula.analysis
    assert isinstance(analysis, Analysis)
    surface = formula.surface
    return JSONResponse(
        {
            "expression": analysis.f.text,
            "f": _typeset(analysis.f),
            "gradient": [_typeset(t) for t in analysis.gradient],
            "hessian": list(analysis.hessian),
            "domain": {"x": list(surface.domain.x), "y": list(surface.domain.y)},
            "stationary_points": [stationary_to_dict(p) for p in analysis.points],
            "surface": surface_to_dict(surface),
        }
    )
