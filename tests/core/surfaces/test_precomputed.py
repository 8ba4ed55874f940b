"""The presets' stationary points kept between runs: what a worker reads back is exactly what it
would compute (truth: a fresh computation), and nothing is computed when the file is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.surfaces import PRESETS, precomputed, stationary


def test_a_second_start_reads_exactly_what_the_first_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(precomputed.CACHE_ENV, str(tmp_path))
    stationary.forget_all()
    assert precomputed.warm_presets() is False  # computed, and written
    assert precomputed.cache_file().parent == tmp_path
    assert precomputed.cache_file().stat().st_mode & 0o444 == 0o444  # any user may read it
    computed = {sid: stationary.stationary_points(s) for sid, s in PRESETS.items()}

    stationary.forget_all()
    monkeypatch.setattr(
        stationary, "find_stationary_points", lambda *a, **k: pytest.fail("computed again")
    )
    assert precomputed.warm_presets() is True
    assert {sid: stationary.stationary_points(s) for sid, s in PRESETS.items()} == computed


def test_an_unreadable_file_means_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(precomputed.CACHE_ENV, str(tmp_path))
    precomputed.cache_file().write_text('{"himmelblau": [{"x": "not a number"}]}')
    stationary.forget_all()
    assert precomputed.warm_presets() is False
    minima = [p for p in stationary.stationary_points(PRESETS["himmelblau"]) if p.kind == "minimum"]
    assert len(minima) == 4


def test_the_file_name_changes_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    before = precomputed.fingerprint()
    monkeypatch.setattr(precomputed.np, "__version__", "0.0.0")
    assert precomputed.fingerprint() != before
