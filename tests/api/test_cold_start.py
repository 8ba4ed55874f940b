"""Cold start (issue 15, item 4): identical concurrent work is computed once, and the presets'
stationary points are ready before a worker takes traffic.

Truth: the number of computations, counted by wrapping the function that does the work, against
the number of distinct things asked for (not the number of requests).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import TestClient as _Client

from app.core.formulas import formula as formulas
from app.core.formulas import sandbox
from app.core.surfaces import PRESETS, stationary
from app.main import create_app

CONCURRENT = 16


@pytest.fixture
def cold() -> Iterator[TestClient]:
    """A client of an app whose lifespan did not run (no warm start) and whose caches are
    empty: what a fresh worker without a warm start would be."""
    stationary.forget_all()
    formulas.CACHE.clear()
    yield _Client(create_app())
    stationary.forget_all()  # later tests recompute them as needed


@pytest.fixture
def count_stationary(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    real = stationary.find_stationary_points

    def counted(surface: Any, *args: Any, **kwargs: Any) -> Any:
        counts[surface.id] += 1
        return real(surface, *args, **kwargs)

    monkeypatch.setattr(stationary, "find_stationary_points", counted)
    return counts


def _all_at_once(call: Callable[[], Any]) -> list[Any]:
    """`call()` from CONCURRENT threads released together; their results."""
    barrier = threading.Barrier(CONCURRENT)
    results: list[Any] = [None] * CONCURRENT

    def one(i: int) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_first_surface_lists_compute_each_preset_once(
    cold: TestClient, count_stationary: Counter[str]
) -> None:
    answers = _all_at_once(lambda: cold.get("/api/surfaces"))
    assert [a.status_code for a in answers] == [200] * CONCURRENT
    assert count_stationary == Counter({id_: 1 for id_ in PRESETS})
    first = answers[0].json()
    assert all(a.json() == first for a in answers)


def test_concurrent_first_requests_for_one_surface_compute_once(
    cold: TestClient, count_stationary: Counter[str]
) -> None:
    answers = _all_at_once(lambda: cold.get("/api/surfaces/rastrigin"))
    assert [a.status_code for a in answers] == [200] * CONCURRENT
    assert count_stationary == Counter({"rastrigin": 1})
    assert sum(p["kind"] == "minimum" for p in answers[0].json()["stationary_points"]) == 121


def test_the_same_new_formula_sent_16_times_at_once_is_analysed_once(
    cold: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = sandbox.run

    def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(sandbox, "run", counted)
    # A generous limit, so that a busy machine (503) cannot stand in for a merge that failed.
    monkeypatch.setattr(formulas, "TIMEOUT", 10.0)
    body = {
        "expression": "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
        "domain": {"x": [-6, 6], "y": [-6, 6]},
    }
    answers = _all_at_once(lambda: cold.post("/api/expressions", json=body))
    assert [a.status_code for a in answers] == [200] * CONCURRENT  # no 503 for merged analyses
    assert calls == [body["expression"]]
    assert len({a.text for a in answers}) == 1


def test_concurrent_first_fits_of_one_dataset_compute_once(
    cold: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.data import regression

    fits: list[int] = []
    real = regression.Logistic

    def counted(*args: Any, **kwargs: Any) -> Any:
        fits.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(regression, "Logistic", counted)
    x = [i / 7.0 for i in range(-40, 41)]
    y = [1 if (i * 37) % 11 > 4 else 0 for i in range(-40, 41)]
    body = {"surface": {"kind": "logistic", "data": {"x": x, "y": y}, "l2": 0.0123}}
    answers = _all_at_once(lambda: cold.post("/api/surface", json=body))
    assert [a.status_code for a in answers] == [200] * CONCURRENT
    assert len(fits) == 1


def test_the_presets_stationary_points_are_ready_before_traffic(
    count_stationary: Counter[str],
) -> None:
    stationary.forget_all()
    with TestClient(create_app()) as client:  # runs the lifespan, as uvicorn does
        count_stationary.clear()  # what start-up computed is not what we measure
        answers = _all_at_once(lambda: client.get("/api/surfaces"))
        assert [a.status_code for a in answers] == [200] * CONCURRENT
        assert client.get("/api/surfaces/himmelblau").status_code == 200
    assert count_stationary == Counter()
