"""Errors of a formula, each a ValueError with a message a person understands.

When the error has a position, the message ends with the formula and a caret under the column:

    Syntax error (invalid syntax) at column 5:
    x + * y
        ^

``detail()`` gives the same facts structured (0-based offsets, 1-based column) for the API.
"""

from __future__ import annotations

from typing import Any


class ExpressionError(ValueError):
    """A formula that cannot be used, and why."""

    kind = "invalid_expression"

    def __init__(
        self,
        reason: str,
        *,
        formula: str | None = None,
        offset: int | None = None,
        end: int | None = None,
        kind: str | None = None,
        allowed: list[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.reason = reason
        self.hint = hint
        self.formula = formula
        self.offset = offset
        self.end = end if end is not None and offset is not None and end > offset else None
        if kind is not None:
            self.kind = kind
        self.allowed = allowed
        super().__init__(self._message())

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across the worker process boundary
        return (_rebuild, (type(self), self.reason, self.__dict__.copy()))

    @property
    def column(self) -> int | None:
        return None if self.offset is None else self.offset + 1

    def _message(self) -> str:
        hint = f"\n{self.hint}" if self.hint else ""
        if self.formula is None or self.offset is None:
            return f"{self.reason}.{hint}" if hint else self.reason
        width = max(1, (self.end or self.offset + 1) - self.offset)
        caret = " " * self.offset + "^" * min(width, max(1, len(self.formula) - self.offset))
        return f"{self.reason} at column {self.column}:\n{self.formula}\n{caret}{hint}"

    @property
    def message(self) -> str:
        return str(self)

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "msg": self.message, "reason": self.reason}
        if self.formula is not None:
            out["formula"] = self.formula
        if self.offset is not None:
            out["offset"] = self.offset
            out["column"] = self.column
            out["end_offset"] = self.end if self.end is not None else self.offset + 1
        if self.allowed is not None:
            out["allowed"] = list(self.allowed)
        if self.hint:
            out["hint"] = self.hint
        return out


def _rebuild(cls: type[ExpressionError], reason: str, state: dict[str, Any]) -> ExpressionError:
    error = cls(
        reason,
        formula=state.get("formula"),
        offset=state.get("offset"),
        end=state.get("end"),
        kind=state.get("kind"),
        allowed=state.get("allowed"),
        hint=state.get("hint"),
    )
    return error


class FormulaSyntaxError(ExpressionError):
    """The text is not an expression (Python syntax)."""

    kind = "syntax"


class UnknownNameError(ExpressionError):
    """A name or function that is not on the whitelist; `allowed` lists those that are."""

    kind = "unknown_name"


class NotAllowedError(ExpressionError):
    """Valid syntax that a formula may not use (attributes, strings, comparisons, …)."""

    kind = "not_allowed"


class FormulaTooLargeError(ExpressionError):
    """Over a cap: length, size, depth, a number, an exponent or a constant."""

    kind = "too_large"


class FormulaTimeoutError(ExpressionError):
    """Differentiating and compiling the formula took longer than the time limit."""

    kind = "timeout"


class FormulaBusyError(ExpressionError):
    """Every formula worker is busy: try again in a moment (not the formula's fault)."""

    kind = "busy"
