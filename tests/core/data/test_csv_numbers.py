"""The CSV parser reads numbers as a spreadsheet writes them (issue 15 item 6): ASCII digits with
an optional sign, the Unicode minus (−1.5) included, a decimal point and an exponent; it refuses
what a spreadsheet would not read as a number (1_000, fullwidth or Arabic-Indic digits), naming
the row. The truth for accepted text is the float it was written from."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.data import DataError, parse_csv

MINUS = "\u2212"  # −


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.sampled_from(["r", "e", "f"]))
def test_a_number_written_by_a_spreadsheet_reads_back(value: float, style: str) -> None:
    """repr, scientific (1.5E+03) and fixed-point text of a float parse to that float; with the
    Unicode minus in place of '-' too."""
    text = {"r": repr(value), "e": f"{value:E}", "f": f"{value:.6f}"}[style]
    expected = float(text)
    for written in (text, text.replace("-", MINUS)):
        _, y, _ = parse_csv(f"x,y\n0,{written}\n1,{written}\n".encode())
        assert y.tolist() == [expected, expected]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"{MINUS}1.5", -1.5),
        (f"1.5e{MINUS}3", 1.5e-3),
        ("+2", 2.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1E5", 1e5),
        ("007", 7.0),
    ],
)
def test_spreadsheet_forms_are_accepted(text: str, value: float) -> None:
    x, _, _ = parse_csv(f"x,y\n{text},0\n0.25,1\n".encode())
    assert math.isclose(x[0], value, rel_tol=0, abs_tol=0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1_000", "without underscores"),
        ("1_0.5", "without underscores"),
        ("\uff11\uff12", "digits as 0-9"),  # fullwidth １２
        ("\u0661\u0662", "digits as 0-9"),  # Arabic-Indic ١٢
        ("\u0967", "digits as 0-9"),  # Devanagari १
        ("1.2.3", ""),
        ("--1", ""),
        ("1e", ""),
        ("0x10", ""),
        ("1,5", ""),  # a decimal comma in a quoted field: not a number in a comma-separated file
    ],
)
def test_what_a_spreadsheet_would_not_read_is_refused_with_its_row(text: str, why: str) -> None:
    if why:
        float(text)  # Python's float() takes it, so the parser must not rely on float() alone
    with pytest.raises(DataError) as info:
        parse_csv(f'x,y\n1,0\n"{text}",1\n'.encode())
    assert info.value.message.startswith("row 3: x = ")
    assert "is not a number" in info.value.message and why in info.value.message
    assert info.value.row == 3
