"""The lessons that draw the gradient flow ("GD is not gradient flow") hold their `expect` through
POST /api/flow: at the lesson's s the modified flow is the closer curve, and halving η halves
θ_t's distance from the flow and quarters its distance from the modified flow."""

import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS

FLOW_LESSONS = [item for item in LESSONS if item["views"].get("gradient_flow")]


def _gaps(client: TestClient, run: dict, s: float) -> tuple[float, float]:
    body = {k: v for k, v in run.items() if k != "label"}
    out = client.post("/api/flow", json=body).json()
    t = round(s / run["optimizer"]["eta"])
    assert out["times"][t] == pytest.approx(s)
    return out["flow"]["distance"][t], out["modified"]["distance"][t]


def test_there_is_a_flow_lesson() -> None:
    assert [item["slug"] for item in FLOW_LESSONS] == ["gd-is-not-gradient-flow"]


@pytest.mark.parametrize("lesson", FLOW_LESSONS, ids=lambda item: item["slug"])
def test_each_flow_lesson_shows_its_gaps(client: TestClient, lesson: dict) -> None:
    gaps = []
    for run, want in zip(lesson["runs"], lesson["expect"], strict=True):
        to_flow, to_modified = _gaps(client, run, want["flow_at_s"])
        gaps.append((to_flow, to_modified))
        if want.get("modified_closer"):
            assert to_modified < to_flow / 3
        if "halves_gaps_of" in want:
            k = want["halves_gaps_of"]
            assert lesson["runs"][k]["optimizer"]["eta"] == 2 * run["optimizer"]["eta"]
            assert gaps[k][0] / to_flow == pytest.approx(2.0, abs=0.25)
            assert gaps[k][1] / to_modified == pytest.approx(4.0, abs=0.5)
