"""1-D datasets (x_i, y_i) for regression surfaces: the seeded built-ins, validation, CSV parsing.

Every way data enters the app ends in `check_data`, which raises `DataError` naming the row (or
index) and the problem, in words a person understands. Nothing here keeps state between requests:
a dataset is its numbers, and `digest` names them for caching.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np

from app.core.surfaces.surface import Array

Kind: TypeAlias = Literal["logistic", "linear"]
KINDS: tuple[Kind, ...] = ("logistic", "linear")

MAX_ROWS = 10_000
MAX_BYTES = 1_000_000  # 1 MB of CSV text
MAX_ABS_VALUE = 1e6  # |x|, |y| bound: keeps x², sums and the loss far from overflow
MIN_SPREAD = 1e-6  # max x − min x, relative to max(1, |x|): below it the slope is ill-posed


class DataError(ValueError):
    """Bad data; `row` is the 1-based line of a CSV file (or None), `message` says what is wrong."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass(frozen=True, eq=False)
class Dataset:
    id: str
    name: str
    description: str  # what the data teaches, in one sentence
    kind: Kind  # the model it was made for
    x: Array
    y: Array

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return suitable_kinds(self.y)


def suitable_kinds(y: Array) -> tuple[Kind, ...]:
    """Linear regression fits any y; logistic needs labels in {0, 1} with both present."""
    labels = set(np.unique(y).tolist())
    return ("logistic", "linear") if labels == {0.0, 1.0} else ("linear",)


def digest(x: Array, y: Array) -> str:
    """A content hash of the numbers: equal data, equal digest, on any replica."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(x, dtype="<f8").tobytes())
    h.update(b"|")
    h.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    return h.hexdigest()


def _where(index: int, rows: list[int] | None, name: str) -> tuple[str, int | None]:
    if rows is None:
        return f"{name}[{index}]", None
    return f"row {rows[index]}: {name}", rows[index]


def check_data(x: Array, y: Array, kind: Kind | None = None, rows: list[int] | None = None) -> None:
    """Raise DataError unless (x, y) is usable data for `kind` (any kind if None).

    `rows` maps each point to its CSV line, so messages say "row 7: …"; else they say "y[6] …".
    """
    if x.shape != y.shape or x.ndim != 1:
        raise DataError(f"x and y must have the same length (got {x.size} and {y.size} values)")
    if x.size > MAX_ROWS:
        raise DataError(f"Too many points: {x.size:,}; at most {MAX_ROWS:,} are allowed")
    if x.size < 2:
        raise DataError(f"Too few points: {x.size}; a line needs at least 2")
    for name, values in (("x", x), ("y", y)):
        bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > MAX_ABS_VALUE))
        if bad.size:
            i = int(bad[0])
            where, row = _where(i, rows, name)
            what = (
                "is not a finite number"
                if not math.isfinite(values[i])
                else (f"is outside ±{MAX_ABS_VALUE:g}")
            )
            raise DataError(f"{where} = {values[i]:g} {what}", row)
    if np.ptp(x) == 0.0:
        raise DataError(
            f"Every x is {x[0]:g}: with a single x value the slope w cannot be determined"
        )
    if np.ptp(x) < MIN_SPREAD * max(1.0, float(np.abs(x).max())):
        raise DataError(
            f"x varies by only {np.ptp(x):.3g}: too little to fit a slope (the x values must "
            f"differ by at least {MIN_SPREAD:g}, or that fraction of the largest |x|)"
        )
    if kind == "logistic":
        bad = np.flatnonzero((y != 0.0) & (y != 1.0))
        if bad.size:
            i = int(bad[0])
            where, row = _where(i, rows, "y")
            raise DataError(
                f"{where} = {y[i]:g} is not a label: logistic regression needs y = 0 or 1", row
            )
        if np.all(y == y[0]):
            raise DataError(
                f"Every label is {y[0]:g}: logistic regression needs both classes, 0 and 1"
            )


# A number as a spreadsheet writes one: ASCII digits, an optional sign (the Unicode minus − too,
# which word processors and some locales put in), a decimal point, an exponent; or inf/nan, which
# check_data then rejects by name. float() alone would also take 1_000 and non-ASCII digits (١٢,
# １２), which no spreadsheet reads as numbers.
_NUMBER = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.I
)


def _number(text: str) -> float | None:
    text = text.replace("\u2212", "-")
    return float(text) if _NUMBER.fullmatch(text) else None


def _why_not_a_number(text: str) -> str:
    if "_" in text:
        return " (write it without underscores)"
    if any(c.isdigit() and not c.isascii() for c in text):
        return " (write its digits as 0-9)"
    return ""


def parse_csv(data: bytes | str, kind: Kind | None = None) -> tuple[Array, Array, list[str] | None]:
    """Two numeric columns x, y, comma-separated, header optional; returns x, y and the header.

    Rows are numbered as lines of the file (the header, if any, is row 1); blank lines are
    skipped. Raises DataError naming the first row that is wrong and why.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise DataError(
                f"The file is {len(data):,} bytes: at most {MAX_BYTES:,} bytes (1 MB) are allowed"
            )
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"The file is not UTF-8 text (byte {exc.start} cannot be read)"
            ) from None
    elif data.startswith("\ufeff"):
        data = data[1:]
    header: list[str] | None = None
    xs: list[float] = []
    ys: list[float] = []
    rows: list[int] = []
    for line, text in enumerate(data.splitlines(), start=1):
        try:
            fields = [f.strip() for f in next(csv.reader([text]), [])]
        except csv.Error as exc:
            raise DataError(f"row {line}: cannot be read as CSV ({exc})", line) from None
        if not any(fields):
            continue
        if len(fields) != 2:
            raise DataError(f"row {line}: expected 2 columns (x, y), found {len(fields)}", line)
        values = [_number(f) for f in fields]
        if not rows and header is None and values == [None, None]:
            header = fields
            continue
        for name, text, value in zip(("x", "y"), fields, values):
            if value is None:
                shown = text if len(text) <= 30 else text[:30] + "…"
                raise DataError(
                    f"row {line}: {name} = {shown!r} is not a number{_why_not_a_number(text)}",
                    line,
                )
        if len(rows) == MAX_ROWS:
            raise DataError(
                f"row {line}: too many rows, this is data row {MAX_ROWS + 1:,} and at most "
                f"{MAX_ROWS:,} are allowed",
                line,
            )
        xs.append(values[0])  # type: ignore[arg-type]
        ys.append(values[1])  # type: ignore[arg-type]
        rows.append(line)
    if not rows:
        raise DataError("The file has no data rows: expected lines of the form x,y")
    x, y = np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)
    check_data(x, y, kind, rows)
    return x, y, header


# --- the built-in datasets -------------------------------------------------------------------


def _labels(rng: np.random.Generator, x0: Array, x1: Array) -> tuple[Array, Array]:
    x = np.concatenate([x0, x1])
    y = np.concatenate([np.zeros(x0.size), np.ones(x1.size)])
    order = rng.permutation(x.size)
    return np.round(x[order], 4), y[order]


def _overlap() -> tuple[Array, Array]:
    rng = np.random.default_rng(4)
    return _labels(rng, rng.normal(-1.0, 1.0, 60), rng.normal(1.0, 1.0, 60))


def _separable() -> tuple[Array, Array]:
    rng = np.random.default_rng(5)
    return _labels(rng, rng.uniform(-3.0, -0.5, 20), rng.uniform(0.5, 3.0, 20))


def _study_minutes() -> tuple[Array, Array]:
    rng = np.random.default_rng(6)
    minutes = np.round(rng.uniform(0.0, 600.0, 80))
    passed = rng.random(80) < 1.0 / (1.0 + np.exp(-(minutes - 300.0) / 60.0))
    return minutes, passed.astype(np.float64)


def _trend() -> tuple[Array, Array]:
    rng = np.random.default_rng(7)
    x = np.round(rng.uniform(-3.0, 3.0, 60), 4)
    return x, np.round(1.5 * x + 0.5 + rng.normal(0.0, 1.0, 60), 4)


def _house_prices() -> tuple[Array, Array]:
    rng = np.random.default_rng(8)
    size = np.round(rng.uniform(500.0, 3500.0, 60))
    return size, np.round(0.15 * size + 40.0 + rng.normal(0.0, 40.0, 60), 1)


def _builtin(
    id: str, name: str, kind: Kind, description: str, data: tuple[Array, Array]
) -> Dataset:
    x, y = data
    check_data(x, y, kind)
    return Dataset(id, name, description, kind, x, y)


BUILTINS: dict[str, Dataset] = {
    d.id: d
    for d in (
        _builtin(
            "overlap",
            "Overlapping classes",
            "logistic",
            "Two classes whose x ranges overlap: the loss has one finite minimum, and "
            "logistic regression finds the best boundary between them.",
            _overlap(),
        ),
        _builtin(
            "separable",
            "Separable classes",
            "logistic",
            "Every x of class 0 lies left of every x of class 1: without a penalty the loss "
            "keeps falling as w grows, so there is no finite minimum.",
            _separable(),
        ),
        _builtin(
            "study_minutes",
            "Minutes studied vs. passed",
            "logistic",
            "x in minutes (0 to 600): the large x-scale makes the surface a narrow ravine; "
            "standardize x to see it become round.",
            _study_minutes(),
        ),
        _builtin(
            "trend",
            "Noisy linear trend",
            "linear",
            "y = 1.5x + 0.5 plus noise: least squares has a closed-form answer, and GD "
            "walks straight to it.",
            _trend(),
        ),
        _builtin(
            "house_prices",
            "House size vs. price",
            "linear",
            "x in square feet (500 to 3500): w and b live on scales 1000× apart, so GD "
            "crawls until x is standardized.",
            _house_prices(),
        ),
    )
}


def get_builtin(dataset_id: str) -> Dataset:
    """The built-in dataset with this id; KeyError names the valid ids."""
    try:
        return BUILTINS[dataset_id]
    except KeyError:
        raise KeyError(
            f"Unknown dataset {dataset_id!r}. Valid ids: {', '.join(BUILTINS)}."
        ) from None
