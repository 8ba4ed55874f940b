"""The optimizer catalogue: read back from the classes' declarations, and what it says holds."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from app.core.descent import CATALOGUE, OPTIMIZERS, STATE_TYPES, make_optimizer
from app.core.descent.catalogue import ETA, MAX_ETA, Bounds
from app.core.descent.runner import StopRules, run_to_end
from app.core.surfaces import get_preset


@pytest.mark.parametrize(
    ("bounds", "value", "admitted"),
    [
        (Bounds(0.0, 1.0), 0.0, True),
        (Bounds(0.0, 1.0), 1.0, True),
        (Bounds(0.0, 1.0), -1e-300, False),
        (Bounds(0.0, 1.0, max_exclusive=True), 1.0, False),
        (Bounds(0.0, 1.0, max_exclusive=True), math.nextafter(1.0, 0.0), True),
        (Bounds(0.0, 1.0, min_exclusive=True), 0.0, False),
        (Bounds(0.0, 1.0, min_exclusive=True), 5e-324, True),
        (Bounds(None, None), -1e308, True),
        (Bounds(None, None), math.inf, False),
        (Bounds(None, None), math.nan, False),
    ],
)
def test_bounds_admit_exactly_their_interval(bounds: Bounds, value: float, admitted: bool) -> None:
    assert bounds.admits(value) is admitted


def test_bounds_say_their_interval_in_words() -> None:
    assert ETA.rule() == f"in (0, {MAX_ETA:g}]"
    assert Bounds(0.0, 1.0, max_exclusive=True).rule() == "in [0, 1)"


def test_the_catalogue_is_every_optimizer_in_order() -> None:
    assert [spec.name for spec in CATALOGUE] == list(OPTIMIZERS)
    assert list(OPTIMIZERS) == [
        "gd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
        "newton",
    ]


def test_hyperparameters_are_the_classes_fields_besides_eta() -> None:
    """What the catalogue lists is what the class takes, in its order, with its defaults (the
    only field left out is Nesterov's dampening, pinned to 0 as torch requires)."""
    for spec in CATALOGUE:
        fields = [f for f in dataclasses.fields(OPTIMIZERS[spec.name]) if f.name != "eta"]
        listed = [(h.name, h.default) for h in spec.hyperparameters]
        shown = [
            (f.name, f.default) for f in fields if f.name != "dampening" or spec.name != "nesterov"
        ]
        assert listed == shown, spec.name
        assert spec.default_eta == OPTIMIZERS[spec.name]().eta


def test_only_gd_takes_a_line_search_and_only_newton_the_hessian() -> None:
    assert [s.name for s in CATALOGUE if s.line_search] == ["gd"]
    assert [s.name for s in CATALOGUE if s.needs_hessian] == ["newton"]


def test_bool_hyperparameters_have_no_bounds_and_floats_do() -> None:
    for spec in CATALOGUE:
        for h in spec.hyperparameters:
            assert (h.type == "bool") == isinstance(h.default, bool) == (h.bounds is None)
            if h.bounds is not None:
                assert h.bounds.admits(h.default), (spec.name, h.name)


def test_newtons_default_step_lands_on_a_quadratics_minimum() -> None:
    """η = 1, Newton's default, is its natural step: on a quadratic bowl one step from anywhere
    reaches the minimum (0, 0) exactly, which no other η does."""
    surface = get_preset("ravine")
    newton = make_optimizer("newton")
    iterates = run_to_end(surface, newton, (-2.0, 1.5), StopRules(max_steps=1, tol=0.0))
    assert_allclose(iterates[1].theta, (0.0, 0.0), atol=1e-15)
    half = make_optimizer("newton", eta=0.5)
    iterates = run_to_end(surface, half, (-2.0, 1.5), StopRules(max_steps=1, tol=0.0))
    assert_allclose(iterates[1].theta, (-1.0, 0.75), rtol=1e-15)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_default_is_accepted_and_every_bound_enforced(name: str) -> None:
    spec = next(s for s in CATALOGUE if s.name == name)
    make_optimizer(name, eta=spec.default_eta, **{h.name: h.default for h in spec.hyperparameters})
    for h in spec.hyperparameters:
        if h.bounds is None:
            with pytest.raises(ValueError, match=f"Invalid {h.name}: 1 "):
                make_optimizer(name, **{h.name: 1})
            continue
        for edge, exclusive, outward in (
            (h.bounds.min, h.bounds.min_exclusive, -np.inf),
            (h.bounds.max, h.bounds.max_exclusive, np.inf),
        ):
            assert edge is not None
            beyond = edge if exclusive else float(np.nextafter(edge, outward))
            with pytest.raises(ValueError, match=rf"Invalid {h.name}: {beyond!r}"):
                make_optimizer(name, **{h.name: beyond})


def test_an_unknown_hyperparameter_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="Adam has no hyperparameter 'momentum'; it takes eta, "):
        make_optimizer("adam", momentum=0.5)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_types_are_what_init_returns(name: str) -> None:
    assert type(make_optimizer(name).init((0.5, -1.0))) is STATE_TYPES[name]
