"""Descent Lab: gradient descent on loss surfaces, seen."""

__version__ = "0.1.0"
