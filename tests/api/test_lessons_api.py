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


SURFACE_LESSONS = [item for item in LESSONS if not item["views"].get("network")]
NETWORK_LESSONS = [item for item in LESSONS if item["views"].get("network")]


@pytest.mark.parametrize("lesson", SURFACE_LESSONS, ids=lambda item: item["slug"])
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


def check_network_run(client: TestClient, run: dict, expect: dict) -> None:
    """One run of a network lesson, sent to its own endpoint, against the lesson's `expect`."""
    body = {k: v for k, v in run.items() if k not in ("label", "api")}
    response = client.post(run["api"], json=body)
    assert response.status_code == 200, response.json()
    result = response.json()
    if run["api"] == "/api/networks/train":
        end, first = result["end"], result["steps"][0]
        assert end["status"] == expect["status"], end["message"]
        if expect.get("sharpness_at_edge"):
            summary = end["sharpness"]
            assert summary["at_edge"] and summary["reached_at"] is not None, end["message"]
            # after it reached 2/η, every measured sharpness is within ±10% of 2/η
            limit = 2.0 / run["optimizer"]["eta"]
            after = [
                s["sharpness"]
                for s in result["steps"]
                if "sharpness" in s and s["t"] >= summary["reached_at"]
            ]
            assert after and all(abs(v / limit - 1.0) <= 0.1 for v in after)
            before = [
                s["sharpness"]
                for s in result["steps"]
                if "sharpness" in s and s["t"] < summary["reached_at"]
            ]
            assert first["sharpness"] < 0.75 * limit and max(before, default=0.0) < limit
        if expect.get("loss_falls"):
            assert end["final"]["loss"] < 0.1 * first["loss"]
        message = end["message"]
    else:
        assert result["run"]["status"] == expect["status"]
        report = result["faithfulness"]
        if "explained_at_least" in expect:
            assert sum(result["explained_variance"]) >= expect["explained_at_least"]
        if "misleading_within" in expect:
            assert all(last <= expect["misleading_within"] for _, last in report["misleading"])
        if "variance_in_plane_below" in expect:
            assert report["variance_in_plane"] < expect["variance_in_plane_below"]
        if "misleading_at_least" in expect:
            kept = set(result["trajectory"]["t"])
            bad = sum(len(kept & set(range(a, b + 1))) for a, b in report["misleading"])
            assert bad >= expect["misleading_at_least"]
        message = report["message"]
    if "message_contains" in expect:
        assert expect["message_contains"] in message


@pytest.mark.parametrize("lesson", NETWORK_LESSONS, ids=lambda item: item["slug"])
def test_each_network_lesson_shows_its_outcome(client: TestClient, lesson: dict) -> None:
    assert len(lesson["runs"]) == len(lesson["expect"])
    assert 2 <= len(lesson["text"]) <= 3 and lesson["question"].endswith("?")
    for run, expect in zip(lesson["runs"], lesson["expect"]):
        check_network_run(client, run, expect)


def test_the_edge_of_stability_lesson_settles_each_run_at_its_own_two_over_eta(
    client: TestClient,
) -> None:
    """η sets the sharpness: the two runs' final sharpness is near their own 2/η, and the
    smaller η's is the larger (13.3 against 15.0)."""
    (eight,) = [item for item in LESSONS if item["slug"] == "edge-of-stability"]
    finals = []
    for run in eight["runs"]:
        body = {k: v for k, v in run.items() if k not in ("label", "api")}
        end = client.post(run["api"], json=body).json()["end"]
        finals.append(end["final"]["sharpness"])
        assert end["final"]["sharpness"] == pytest.approx(2.0 / run["optimizer"]["eta"], rel=0.1)
    assert finals[1] > finals[0]


def test_the_slice_lesson_shows_the_same_run_on_both_planes(client: TestClient) -> None:
    (nine,) = [item for item in LESSONS if item["slug"] == "honest-slices"]
    pca, rand = (
        client.post(r["api"], json={k: v for k, v in r.items() if k not in ("label", "api")}).json()
        for r in nine["runs"]
    )
    assert pca["trajectory"]["true_loss"] == rand["trajectory"]["true_loss"]
    assert (
        pca["faithfulness"]["variance_in_plane"] > 0.9 > rand["faithfulness"]["variance_in_plane"]
    )
