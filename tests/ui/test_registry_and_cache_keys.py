"""The page registry feeds navigation and URL ownership; cache keys are deterministic and tell frames apart."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.filters import Filters
from ui import db, registry

ROOT = Path(__file__).resolve().parents[2]


def test_every_registered_page_exists_with_a_unique_prefix_and_every_page_file_is_registered():
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")}
    assert {p.path for p in registry.PAGES} == files
    assert len(set(registry.PREFIXES)) == len(registry.PAGES)
    for a in registry.PREFIXES:  # no prefix starts another, or one page would drop the other's state
        assert not [b for b in registry.PREFIXES if b != a and b.startswith(a)]
    assert registry.page("pages/browse.py").url_path == "browse"


def test_each_page_claims_its_own_prefix():
    for spec in registry.PAGES:
        source = (ROOT / spec.path).read_text(encoding="utf-8")
        assert f'state.page_start("{spec.prefix}")' in source, spec.path


def test_cache_keys_are_stable_and_tell_frames_apart():
    a = pl.DataFrame({"text_hash": ["x", "y"], "v": [1.0, 2.0]})
    b = pl.DataFrame({"text_hash": ["x", "y"], "v": [1.0, 2.5]})
    assert db._call_key((Filters(countries=("India",)), a), {}) == db._call_key(
        (Filters(countries=("India",)), a.clone()), {}
    )
    assert db._call_key((a,), {}) != db._call_key((b,), {})
    assert db._call_key((), {"scores": None, "view": "iw"}) == db._call_key((), {"view": "iw", "scores": None})
    assert db._call_key((Filters(),), {}) != db._call_key((Filters(turns=(1,)),), {})
