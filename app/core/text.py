"""Numbers written for people: used in the messages that explain a run."""

from __future__ import annotations


def sci(value: float) -> str:
    """Three significant digits, exponent without padding: 1e12 → '1e12', 0.00025 → '0.00025'."""
    text = f"{value:.3g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def num(value: float) -> str:
    """Four significant digits, and never '-0'."""
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


def point(x: float, y: float) -> str:
    return f"({num(x)}, {num(y)})"
