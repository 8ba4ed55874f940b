"""Every lesson's runs, replayed through the API, show what the lesson says they show."""

import math

import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS


def test_lessons_are_listed_in_order(client: TestClient) -> None:
    listed = client.get("/api/lessons").json()
    assert [lesson["id"] for lesson in listed] == list(range(1, len(listed) + 1))
    assert len(listed) >= 7
    assert client.get("/api/lessons/3").json()["slug"] == "step-size"
    missing = client.get("/api/lessons/99")
    assert missing.status_code == 404 and "1 to" in missing.json()["message"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda item: item["slug"])
def test_each_lesson_shows_its_outcome(client: TestClient, lesson: dict) -> None:
    assert len(lesson["runs"]) == len(lesson["expect"])
    assert 2 <= len(lesson["text"]) <= 3 and lesson["question"].endswith("?")
    for run, expect in zip(lesson["runs"], lesson["expect"]):
        body = {k: v for k, v in run.items() if k != "label"}
        result = client.post("/api/descent", json=body).json()
        assert result["status"] == expect["status"], (
            lesson["slug"],
            run["label"],
            result["message"],
        )
        if "minimum" in expect:
            near = result["nearest_minimum"]
            assert math.dist(result["final"]["theta"], expect["minimum"]) < 1e-3
            assert near["kind"] == expect.get("kind", near["kind"])
        if "first_step" in expect:
            assert result["path"][1] == pytest.approx(expect["first_step"], abs=1e-15)
        if "message_contains" in expect:
            assert expect["message_contains"] in result["message"]
        if expect.get("at_minimum"):
            assert result["nearest_minimum"]["distance"] < 1e-4


def test_lesson_four_reaches_two_different_minima(client: TestClient) -> None:
    (four,) = [item for item in LESSONS if item["id"] == 4]
    ends = [
        client.post("/api/descent", json={k: v for k, v in run.items() if k != "label"}).json()
        for run in four["runs"]
    ]
    assert ends[0]["nearest_minimum"]["kind"] != ends[1]["nearest_minimum"]["kind"]


def test_lesson_five_says_what_the_race_shows(client: TestClient) -> None:
    """Momentum at GD's η arrives in under half GD's steps; Adam's loss does not fall
    monotonically (it circles the minimum), while GD's does."""
    (five,) = [item for item in LESSONS if item["id"] == 5]
    gd, momentum, adam = (
        client.post("/api/descent", json={k: v for k, v in run.items() if k != "label"}).json()
        for run in five["runs"]
    )
    assert momentum["steps"] < gd["steps"] / 2
    assert all(b <= a for a, b in zip(gd["loss"], gd["loss"][1:]))
    assert any(b > a for a, b in zip(adam["loss"], adam["loss"][1:]))
