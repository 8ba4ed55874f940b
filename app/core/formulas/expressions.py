"""Safe formulas f(x, y): Python's ast, a whitelist, SymPy built by hand, numpy functions.

User text is never executed: ``ast.parse(text, mode="eval")`` only parses, the tree is checked
against a whitelist (numbers, the names x, y, pi, e, + − * / ** and a fixed list of functions),
and the SymPy expression is built node by node from the checked tree. ``sympify``,
``parse_expr``, ``eval`` and ``exec`` never see the text.

Caps keep every formula cheap: its length, the depth and size of its tree, the size of each
number, the size of constant exponents (and no power towers), and the size of every constant the
formula folds to. The SymPy work (building, differentiating, printing) can still be slow for a
formula within the caps, so the server runs it in a separate process under a time limit (see
app/core/formulas.py); this module itself is pure and does no process handling.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from app.core.formulas.errors import (
    ExpressionError,
    FormulaSyntaxError,
    FormulaTooLargeError,
    NotAllowedError,
    UnknownNameError,
)

MAX_LENGTH = 500  # characters
MAX_NODES = 150  # nodes of the syntax tree (names, numbers, operators, calls)
MAX_DEPTH = 24  # nesting depth; a chain a + b + c … counts as one level
MAX_LITERAL = 1e6  # |number| as written
MAX_EXPONENT = 100  # |constant exponent|
MAX_CONSTANT = 1e300  # |any constant the formula folds to|: stays a finite float64
MAX_CONSTANT_BITS = 512  # numerator + denominator bits of an exact constant (no huge integers)

X, Y = sp.symbols("x y", real=True)
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}
VARIABLES: dict[str, sp.Symbol] = {"x": X, "y": Y}
FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
}
_MATH: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
}
ALLOWED = (
    "A formula may use numbers, the variables x and y, the constants pi and e, + - * / ** and "
    f"parentheses, and the functions {', '.join(FUNCTIONS)}."
)

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_HINTS = {
    ast.BitXor: "'^' is not a power here: write x**2 for x squared",
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "indexing (a[b]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and' / 'or' are not allowed",
    ast.IfExp: "'if ... else' is not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
}
_KINDS = {
    str: "Strings are",
    bytes: "Strings are",
    bool: "True and False are",
    complex: "Complex numbers are",
    type(None): "None is",
    type(...): "... is",
}
_OPERATOR_GROUP = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
# Operators outside the whitelist, by their symbol: an error points at the symbol, not at the
# whole expression around it (x^2 underlines the ^).
_OPERATOR_SYMBOLS = {
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
}


def _span(node: ast.AST) -> tuple[int | None, int | None]:
    start = getattr(node, "col_offset", None)
    end = getattr(node, "end_col_offset", None)
    return start, end


def _check_text(text: str) -> None:
    if not text.strip():
        raise FormulaSyntaxError(
            "The formula is empty: type an expression in x and y, e.g. x**2 + y**2"
        )
    if len(text) > MAX_LENGTH:
        raise FormulaTooLargeError(
            f"The formula is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
            formula=text[:MAX_LENGTH],
            kind="too_long",
        )
    for i, ch in enumerate(text):
        if not (" " <= ch <= "~"):
            shown = {"\n": "a line break", "\t": "a tab"}.get(ch, repr(ch))
            hint = {
                "−": " (write - for minus)",
                "×": " (write * for times)",
                "·": " (write *)",
                "²": " (write **2)",
                "π": " (write pi)",
            }.get(ch, "")
            raise FormulaSyntaxError(
                f"{shown} is not allowed in a formula{hint}", formula=text, offset=i, end=i + 1
            )


def _parse(text: str) -> ast.expr:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        offset = max(0, (exc.offset or 1) - 1)
        if (exc.lineno or 1) > 1:
            offset = len(text)
        reason = exc.msg
        if "decimal literal" in reason:
            reason += " (write 2*x, not 2x, for a product)"
        elif "never closed" in reason:
            reason += "; add the closing parenthesis"
        raise FormulaSyntaxError(f"Syntax error ({reason})", formula=text, offset=offset) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise FormulaTooLargeError(
            f"The formula is nested too deeply to parse ({type(exc).__name__})", formula=text
        ) from None
    return tree.body


def _check_shape(text: str, body: ast.expr) -> None:
    """Node count and depth, computed without recursion (the tree is untrusted)."""
    nodes = 0
    stack: list[tuple[ast.AST, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (ast.operator, ast.unaryop, ast.expr_context)):
            continue
        nodes += 1
        if nodes > MAX_NODES:
            raise FormulaTooLargeError(
                f"The formula has more than {MAX_NODES} parts (numbers, names, operations); "
                "simplify it",
                formula=text,
                kind="too_many_nodes",
            )
        if depth > MAX_DEPTH:
            start, end = _span(node)
            raise FormulaTooLargeError(
                f"The formula is nested more than {MAX_DEPTH} levels deep",
                formula=text,
                offset=start,
                end=end,
                kind="too_deep",
            )
        for child in ast.iter_child_nodes(node):
            op = getattr(node, "op", None)
            group = _OPERATOR_GROUP.get(type(op)) if isinstance(op, ast.operator) else None
            flat = (
                isinstance(node, ast.BinOp)
                and isinstance(child, ast.BinOp)
                and child is node.left
                and group is not None
                and group == _OPERATOR_GROUP.get(type(child.op))
            )
            stack.append((child, depth if flat else depth + 1))


class _Checker:
    """Walk a checked-shape tree: every node must be on the whitelist; constants are evaluated in
    float as they go, so an overflowing or non-real constant is refused where it is written."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(
        self,
        node: ast.AST,
        message: str,
        cls: type[ExpressionError] = NotAllowedError,
        **extra: Any,
    ) -> ExpressionError:
        start, end = self.operator_span(node) or _span(node)
        return cls(message, formula=self.text, offset=start, end=end, **extra)

    def operator_span(self, node: ast.AST) -> tuple[int, int] | None:
        """Where a binary operator's symbol is, if `node` is one outside the whitelist."""
        if not isinstance(node, ast.BinOp) or type(node.op) not in _OPERATOR_SYMBOLS:
            return None
        left, right = node.left, node.right
        if not (left.end_lineno == right.lineno == 1 and left.end_col_offset is not None):
            return None
        symbol = _OPERATOR_SYMBOLS[type(node.op)]
        at = self.text.find(symbol, left.end_col_offset, right.col_offset)
        return (at, at + len(symbol)) if at >= 0 else None

    def source(self, node: ast.AST) -> str:
        start, end = _span(node)
        return self.text[start:end] if start is not None else "?"

    def visit(self, node: ast.AST) -> float | None:
        """The float value of a constant subtree, or None if it depends on x or y."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.visit(node.operand)
            return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        op = getattr(node, "op", None)
        hint = _HINTS.get(type(op)) if op is not None else None
        hint = hint or _HINTS.get(type(node))
        if hint is None:
            what = type(op).__name__ if op is not None else type(node).__name__
            hint = f"{self.source(node)!r} ({what}) is not allowed"
        raise self.fail(node, hint[0].upper() + hint[1:], hint=ALLOWED)

    def constant(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = _KINDS.get(type(value), type(value).__name__)
            raise self.fail(node, f"{kind} not allowed", hint=ALLOWED)
        if not abs(value) <= MAX_LITERAL:
            raise self.fail(
                node,
                f"The number {self.source(node)} is too large: numbers are "
                f"limited to ±{MAX_LITERAL:g}",
                FormulaTooLargeError,
                kind="number_too_large",
            )
        return float(value)

    def name(self, node: ast.Name) -> float | None:
        if node.id in VARIABLES:
            return None
        if node.id in CONSTANTS:
            return math.pi if node.id == "pi" else math.e
        if node.id in FUNCTIONS:
            raise self.fail(node, f"{node.id} is a function: call it, as in {node.id}(x)")
        known = [*VARIABLES, *CONSTANTS, *FUNCTIONS]
        close = difflib.get_close_matches(node.id, known, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise self.fail(
            node,
            f"Unknown name {node.id!r}",
            UnknownNameError,
            allowed=known,
            hint=f"{hint.strip()} Allowed: the variables x and y, the constants pi "
            f"and e, and the functions {', '.join(FUNCTIONS)}.".strip(),
        )

    def binop(self, node: ast.BinOp) -> float | None:
        left = self.visit(node.left)
        if isinstance(node.op, ast.Pow):
            powers = (n for n in ast.walk(node.right) if isinstance(n, ast.BinOp))
            if any(isinstance(n.op, ast.Pow) for n in powers):
                raise self.fail(
                    node,
                    "Power towers (a**b**c, a**(b**c)) are not allowed",
                    FormulaTooLargeError,
                    kind="power_tower",
                )
        right = self.visit(node.right)
        if isinstance(node.op, ast.Pow) and right is not None and abs(right) > MAX_EXPONENT:
            raise self.fail(
                node.right,
                f"The exponent {self.source(node.right)} is too large: "
                f"constant exponents are limited to ±{MAX_EXPONENT}",
                FormulaTooLargeError,
                kind="exponent_too_large",
            )
        if left is None or right is None:
            return None
        try:
            if isinstance(node.op, ast.Add):
                value = left + right
            elif isinstance(node.op, ast.Sub):
                value = left - right
            elif isinstance(node.op, ast.Mult):
                value = left * right
            elif isinstance(node.op, ast.Div):
                value = left / right
            else:
                value = math.pow(left, right)
        except ZeroDivisionError:
            raise self.fail(node, f"{self.source(node)} divides by zero") from None
        except (OverflowError, ValueError):
            value = math.nan if isinstance(node.op, ast.Pow) and left < 0 else math.inf
        return self.bounded(node, value)

    def bounded(self, node: ast.AST, value: float) -> float:
        if math.isnan(value):
            raise self.fail(node, f"{self.source(node)} is not a real number")
        if not abs(value) <= MAX_CONSTANT:
            raise self.fail(
                node,
                f"The constant {self.source(node)} is too large (beyond ±{MAX_CONSTANT:g})",
                FormulaTooLargeError,
                kind="constant_too_large",
            )
        return value

    def call(self, node: ast.Call) -> float | None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail(
                func, "Only a function's name can be called, as in sin(x)", hint=ALLOWED
            )
        if func.id not in FUNCTIONS:
            close = difflib.get_close_matches(func.id, list(FUNCTIONS), n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise self.fail(
                func,
                f"Unknown function {func.id!r}",
                UnknownNameError,
                allowed=list(FUNCTIONS),
                hint=f"{hint} Allowed functions: {', '.join(FUNCTIONS)}.".strip(),
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.fail(node, f"{func.id}() takes exactly one argument, as in {func.id}(x)")
        arg = self.visit(node.args[0])
        if arg is None:
            return None
        try:
            value = _MATH[func.id](arg)
        except OverflowError:
            value = math.inf
        except ValueError:
            value = math.nan
        return self.bounded(node, float(value))


@dataclass(frozen=True)
class Checked:
    """A formula that passed every check: its text, tree, and normalised text (the cache key)."""

    text: str
    tree: ast.expr
    normalized: str


def check(text: str) -> Checked:
    """Parse and check a formula without building anything; ExpressionError says what is wrong."""
    if not isinstance(text, str):
        raise FormulaSyntaxError("The formula must be a string")
    text = text.strip(" ")  # positions in errors refer to the stripped text (error.formula)
    _check_text(text)
    body = _parse(text)
    _check_shape(text, body)
    _Checker(text).visit(body)
    return Checked(text, body, ast.unparse(body))


class _Builder:
    """Build the SymPy expression of a checked tree, refusing exact constants that grow huge."""

    def __init__(self, checker: _Checker) -> None:
        self.checker = checker

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, float) and not value.is_integer():
                return sp.Float(value)
            assert isinstance(value, int | float)  # the checker let only real numbers through
            return sp.Integer(int(value))
        if isinstance(node, ast.Name):
            return VARIABLES[node.id] if node.id in VARIABLES else CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return self.checked(node, FUNCTIONS[node.func.id](self.build(node.args[0])))
        assert isinstance(node, ast.BinOp)
        left, right = self.build(node.left), self.build(node.right)
        if isinstance(node.op, ast.Add):
            result = left + right
        elif isinstance(node.op, ast.Sub):
            result = left - right
        elif isinstance(node.op, ast.Mult):
            result = left * right
        elif isinstance(node.op, ast.Div):
            result = left / right
        else:
            if left.is_Rational and right.is_Rational:
                bits = _bits(left) * abs(float(right))
                if bits > MAX_CONSTANT_BITS:
                    raise self.checker.fail(
                        node,
                        f"The constant {self.checker.source(node)} has too many digits",
                        FormulaTooLargeError,
                        kind="constant_too_large",
                    )
            result = left**right
        return self.checked(node, result)

    def checked(self, node: ast.AST, result: sp.Expr) -> sp.Expr:
        if result.is_Rational and _bits(result) > MAX_CONSTANT_BITS:
            raise self.checker.fail(
                node,
                f"The constant {self.checker.source(node)} has too many digits",
                FormulaTooLargeError,
                kind="constant_too_large",
            )
        if result.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise self.checker.fail(node, f"{self.checker.source(node)} is infinite or undefined")
        if result.has(sp.I):
            raise self.checker.fail(
                node,
                f"{self.checker.source(node)} is not real-valued (SymPy "
                "turns it into a complex expression)",
            )
        return result


def _bits(q: sp.Rational) -> int:
    return int(abs(q.p)).bit_length() + int(q.q).bit_length()


def build(checked: Checked) -> sp.Expr:
    """The SymPy expression of a checked formula. Can be slow: call it under a time limit."""
    return _Builder(_Checker(checked.text)).build(checked.tree)


def parse(text: str) -> sp.Expr:
    """check() then build(): the SymPy expression of a formula (no time limit: for tests and the
    worker process)."""
    return build(check(text))


def derivatives(f: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr], tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """∇f = (f_x, f_y) and the Hessian (f_xx, f_xy, f_yy), with the Dirac deltas of |·|'' set
    to 0 (numerically they are zero almost everywhere)."""

    def clean(e: sp.Expr) -> sp.Expr:
        return e.replace(sp.DiracDelta, lambda *args: sp.S.Zero) if e.has(sp.DiracDelta) else e

    fx, fy = clean(f.diff(X)), clean(f.diff(Y))
    return (fx, fy), (clean(fx.diff(X)), clean(fx.diff(Y)), clean(fy.diff(Y)))


# --- numbers -----------------------------------------------------------------------------------


_SCALARS = {float, int, np.float64}


def _to_shape(value: Any, shape: tuple[int, ...]) -> Any:
    out = np.asarray(value, dtype=np.float64)
    if out.shape != shape:
        out = np.broadcast_to(out, shape).copy()
    return out[()] if shape == () else out


def numeric(exprs: list[sp.Expr]) -> Callable[[Any, Any], Any]:
    """One numpy function of (x, y) for a list of expressions: float64, broadcasting (a constant
    fills the input's shape), overflow and invalid values give inf/NaN, never an exception.
    Returns one value for one expression, else a tuple."""
    raw = sp.lambdify((X, Y), exprs if len(exprs) > 1 else exprs[0], modules="numpy")
    single = len(exprs) == 1

    def call(x: Any, y: Any) -> Any:
        if type(x) in _SCALARS and type(y) in _SCALARS:  # one iterate: the runner's hot path
            with np.errstate(all="ignore"):
                out = raw(np.float64(x), np.float64(y))
            if single:
                return np.float64(out)
            return tuple(np.float64(v) for v in out)
        xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        shape = np.broadcast_shapes(xa.shape, ya.shape)
        with np.errstate(all="ignore"):
            out = raw(xa, ya)
        if single:
            return _to_shape(out, shape)
        return tuple(_to_shape(v, shape) for v in out)

    return call
