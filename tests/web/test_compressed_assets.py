"""Compressed assets computed once (issue 15 item 4, issue 17 item 4): the page and Plotly's bundle
are compressed once per worker however many first requests arrive together, before the worker
takes traffic, and sent as Brotli or gzip as Accept-Encoding allows. Decoded bodies are checked
against the installed bundle and the uncompressed page."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web import assets, pages
from app.web.assets import SingleFlight, negotiate

PLOTLY = pages.PLOTLY_JS.read_bytes()


@pytest.fixture
def compressions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[bytes]]:
    """The bodies `assets.compress` is called with, from a cold start: no asset computed yet and
    an empty cache directory."""
    calls: list[bytes] = []
    lock = threading.Lock()
    real = assets.compress

    def counted(raw: bytes, quality: int) -> tuple[bytes, bytes]:
        with lock:
            calls.append(raw)
        return real(raw, quality)

    monkeypatch.setattr(assets, "compress", counted)
    monkeypatch.setattr(assets, "CACHE", tmp_path / "empty")
    pages.ASSETS.clear()
    yield calls
    pages.ASSETS.clear()


def plotly_path() -> str:
    """The bundle's URL, derived here from the file itself (plotly.js version and content hash)."""
    return (
        f"/vendor/plotly-{pages.plotly_version()}-{hashlib.sha256(PLOTLY).hexdigest()[:16]}.min.js"
    )


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),  # Chromium
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.1", "br"),  # any q > 0 is acceptable; br is the smaller
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("identity", None),
        ("", None),
        ("br;q=0, gzip;q=0", None),
        ("BR", "br"),
        ("gzip;q=zero", None),
    ],
)
def test_the_encoding_follows_accept_encoding(header: str, chosen: str | None) -> None:
    assert negotiate(header) == chosen


def test_sixteen_concurrent_first_requests_compress_each_asset_once(compressions) -> None:
    client = TestClient(create_app())  # no `with`: no lifespan, so nothing is warm
    barrier = threading.Barrier(16)
    answers: list[tuple[str, int, bytes]] = []

    def fetch(path: str) -> None:
        barrier.wait()
        response = client.get(path, headers={"accept-encoding": "br"})
        answers.append((path, response.status_code, response.content))

    threads = [threading.Thread(target=fetch, args=(p,)) for p in ["/", plotly_path()] * 8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for _, status, _ in answers) == [200] * 16
    assert {content for path, _, content in answers if path != "/"} == {PLOTLY}  # decoded
    assert len({content for path, _, content in answers if path == "/"}) == 1
    assert sum(raw == PLOTLY for raw in compressions) == 1
    assert sum(raw.startswith(b"<!doctype html>") for raw in compressions) == 1
    assert len(compressions) == 2


def test_the_assets_are_compressed_before_the_first_request(compressions) -> None:
    with TestClient(create_app()) as client:  # runs the lifespan, as uvicorn does
        assert len(compressions) == 2  # before any request
        assert client.get("/").status_code == 200
        assert client.get(plotly_path()).status_code == 200
    assert len(compressions) == 2


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def test_plotly_is_sent_as_brotli_gzip_or_identity_with_immutable_caching(client) -> None:
    bodies = {}
    for accepted in ("br", "gzip", "identity"):
        response = client.get(plotly_path(), headers={"accept-encoding": accepted, "x-raw": "1"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers.get("content-encoding") == (
            None if accepted == "identity" else accepted
        )
        bodies[accepted] = response
    # httpx decodes gzip and (with the brotli package installed) br: compare with the file too.
    assert all(r.content == PLOTLY for r in bodies.values())
    wire = {k: int(r.headers["content-length"]) for k, r in bodies.items()}
    assert wire["br"] < wire["gzip"] < len(PLOTLY) / 3
    assert wire["identity"] == len(PLOTLY)


def test_the_encoded_bodies_decode_to_the_bundle() -> None:
    encoded = pages.ASSETS.get(pages.PLOTLY)
    assert brotli.decompress(encoded.br) == PLOTLY
    assert gzip.decompress(encoded.gzip) == PLOTLY


def test_the_page_is_sent_compressed_and_revalidated(client) -> None:
    plain = client.get("/", headers={"accept-encoding": "identity"})
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/html")
    assert "content-encoding" not in plain.headers
    assert plotly_path() in plain.text
    for accepted in ("br", "gzip"):
        packed = client.get("/", headers={"accept-encoding": accepted})
        assert packed.headers["content-encoding"] == accepted
        assert packed.content == plain.content
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert plain.headers["cache-control"] == "no-cache"
    again = client.get("/", headers={"if-none-match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_best_encodings_written_ahead_of_time_are_read_not_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = PLOTLY[:100_000]
    assets.write_cache(raw, tmp_path)

    def refuse(raw: bytes, quality: int) -> tuple[bytes, bytes]:
        raise AssertionError("compressed although the cache had it")

    monkeypatch.setattr(assets, "compress", refuse)
    encoded = assets.encode(raw, tmp_path)
    assert brotli.decompress(encoded.br) == raw and gzip.decompress(encoded.gzip) == raw
    fast = brotli.compress(raw, mode=brotli.MODE_TEXT, quality=assets.FAST_BROTLI)
    assert len(encoded.br) < len(fast)  # the best quality, as written


def test_single_flight_shares_one_computation_and_retries_after_a_failure() -> None:
    calls: list[str] = []
    gate = threading.Event()

    def compute(key: str) -> str:
        calls.append(key)
        gate.wait(10)
        if len(calls) == 1 and key == "bad":
            raise ValueError("first try fails")
        return key.upper()

    flight: SingleFlight[str, str] = SingleFlight(compute)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(flight.get("a"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert results == ["A"] * 8 and calls == ["a"]
    calls.clear()
    with pytest.raises(ValueError):
        flight.get("bad")
    assert flight.get("bad") == "BAD" and calls == ["bad", "bad"]


def test_the_docker_image_compresses_the_bundle_at_build_time_where_workers_look() -> None:
    dockerfile = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.splitlines()]
    build = lines.index("RUN python -m app.web.assets")
    assert lines.index("COPY app/ ./app/") < build < lines.index("USER descent")
    (workdir,) = (line.split()[1] for line in lines if line.startswith("WORKDIR "))
    assert "DESCENT_ASSET_CACHE" not in dockerfile  # so the default, next to app/, is used
    assert assets.CACHE == Path(pages.ROOT) / ".asset-cache" and workdir == "/app"


def test_versioned_static_files_are_sent_as_brotli_or_gzip(client) -> None:
    html = client.get("/").text
    version = html.split("/static/v-", 1)[1].split("/", 1)[0]
    for name in ("js/main.js", "css/app.css"):
        raw = (pages.STATIC / name).read_bytes()
        for accepted in ("br", "gzip"):
            response = client.get(
                f"/static/v-{version}/{name}", headers={"accept-encoding": accepted}
            )
            assert response.status_code == 200
            assert response.headers["content-encoding"] == accepted
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert response.content == raw
        again = client.get(
            f"/static/v-{version}/{name}", headers={"if-none-match": response.headers["etag"]}
        )
        assert again.status_code == 304
    assert client.get(f"/static/v-{version}/js/nothing.js").status_code == 404
    assert client.get(f"/static/v-{version}/../app/main.py").status_code == 404


def test_an_edited_template_or_static_file_makes_a_new_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("TEMPLATES", "STATIC"):
        copy = tmp_path / folder
        copy.mkdir()
        (copy / "a.html").write_text("one")
        monkeypatch.setattr(pages, folder, copy)
        before = pages.page_key()
        (copy / "a.html").write_text("two!")
        assert pages.page_key() != before


def test_a_damaged_cache_file_is_not_served(tmp_path: Path) -> None:
    raw = PLOTLY[:50_000]
    assets.write_cache(raw, tmp_path)
    digest = hashlib.sha256(raw).hexdigest()[:32]
    damaged = tmp_path / f"{digest}.br"
    damaged.write_bytes(damaged.read_bytes()[:-100])  # truncated
    encoded = assets.encode(raw, tmp_path)
    assert brotli.decompress(encoded.br) == raw and gzip.decompress(encoded.gzip) == raw
    (tmp_path / f"{digest}.gz").write_bytes(b"\x1f\x8b\x08\x00not gzip at all")
    assert gzip.decompress(assets.encode(raw, tmp_path).gzip) == raw


def test_the_cache_is_written_once_and_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = PLOTLY[:60_000]
    assert not assets.cached(raw, tmp_path)
    assets.write_cache(raw, tmp_path)
    assert assets.cached(raw, tmp_path)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".br", ".gz"]  # no partial file left
    digest = hashlib.sha256(raw).hexdigest()[:32]
    (tmp_path / f"{digest}.gz").write_bytes(b"stale")
    assert not assets.cached(raw, tmp_path)  # a damaged file is not taken for a cache


def test_make_run_compresses_plotly_only_when_the_cache_lacks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = PLOTLY[:40_000]
    bundle = tmp_path / "plotly.min.js"
    bundle.write_bytes(raw)
    monkeypatch.setattr(pages, "PLOTLY_JS", bundle)
    monkeypatch.setattr(assets, "CACHE", tmp_path / "cache")
    assets.main()
    assert "once" in capsys.readouterr().out and assets.cached(raw, tmp_path / "cache")
    assets.main()
    assert capsys.readouterr().out == ""  # already there: nothing compressed
