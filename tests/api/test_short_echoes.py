"""Short echoes (issue 15 item 6): an error names what was wrong without echoing a huge input back
in full, and the CSV endpoint reads numbers as a spreadsheet writes them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.errors import shorten


def test_an_unknown_surface_id_of_65000_characters_is_not_echoed(client: TestClient) -> None:
    given = "a" * 65_000
    for response in (
        client.get(f"/api/surfaces/{given}"),
        client.get(f"/api/surfaces/{given}/grid?n=10"),
    ):
        assert response.status_code == 404
        body = response.json()
        assert len(response.content) < 1_000
        assert "Unknown surface 'aaaa" in body["message"] and "65,001 characters" in body["message"]
        assert "Valid ids: quadratic" in body["message"]  # the useful part survives


def test_an_integer_of_4300_digits_is_described_not_echoed(client: TestClient) -> None:
    huge = "9" * 4300
    for body in (
        f'{{"surface": "quadratic", "max_steps": {huge}}}',
        f'{{"surface": "quadratic", "theta0": [1, {huge}]}}',
        f'{{"surface": "quadratic", "theta0": [1, -{huge}]}}',
    ):
        response = client.post(
            "/api/descent", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert len(response.content) < 1_000
        assert "an integer of about 4,300 digits" in response.json()["message"]
    small = client.post("/api/descent", json={"surface": "quadratic", "max_steps": 10**9})
    assert "(got 1000000000)" in small.json()["message"]  # a readable number is shown as it is


def test_a_huge_query_number_is_cut(client: TestClient) -> None:
    response = client.get("/api/surfaces/himmelblau/grid?n=" + "9" * 4300)
    assert response.status_code == 422 and len(response.content) < 1_000


def test_shorten_keeps_prose_and_cuts_long_runs() -> None:
    prose = "row 3: x = '1_000' is not a number (write it without underscores)"
    assert shorten(prose) == prose
    assert shorten("id " + "z" * 81 + ".") == "id " + "z" * 40 + "… (81 characters)."
    assert shorten("id " + "z" * 80) == "id " + "z" * 80


def test_the_csv_endpoint_reads_the_unicode_minus_and_refuses_underscores(
    client: TestClient,
) -> None:
    ok = client.post(
        "/api/datasets?kind=linear",
        content="x,y\n\u22121.5,2\n1,\u22123e\u22121\n".encode(),
        headers={"content-type": "text/csv"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["x"] == [-1.5, 1.0] and ok.json()["y"] == [2.0, -0.3]
    for bad, hint in (("1_000", "underscores"), ("\uff11", "0-9"), ("\u0661", "0-9")):
        response = client.post(
            "/api/datasets?kind=linear",
            content=f"x,y\n1,2\n{bad},3\n".encode(),
            headers={"content-type": "text/csv"},
        )
        assert response.status_code == 422
        assert response.json()["message"].startswith("row 3: x = ")
        assert hint in response.json()["message"]
