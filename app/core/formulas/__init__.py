"""Formulas typed by users: an ast whitelist with positioned errors, SymPy in a sandboxed worker.

What the rest of the app may import from this room is listed here; every other name is internal.
"""

from app.core.formulas import sandbox
from app.core.formulas.errors import ExpressionError, FormulaBusyError
from app.core.formulas.expressions import MAX_LENGTH
from app.core.formulas.formula import Formula, formula_surface
from app.core.formulas.worker import Analysis, Typeset

__all__ = [
    "MAX_LENGTH",
    "Analysis",
    "ExpressionError",
    "Formula",
    "FormulaBusyError",
    "Typeset",
    "formula_surface",
    "sandbox",
]
