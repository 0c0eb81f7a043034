"""Every page opened from a link whose every parameter is hostile Markdown (an image, raw HTML, a link, a bare URL, a
directive), and on a database whose text fields hold the same: whatever reaches st.markdown, st.caption, the alerts,
subheaders, metrics and expanders renders to HTML that loads nothing, and no value from the link or the data becomes
a link. (`/browse?br_conv=nope%60%20![r](http://...)%20%60` and `/?country=![c](http://...)` fetched the image; an
age value became a link.)"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from tests.markdown_check import assert_loads_nothing, bare_urls
from tests.pages.harness import app_on
from ui import registry

pytestmark = pytest.mark.usefixtures("navigation_mode")
PROBE = "http://127.0.0.1:9"
HOSTILE = (
    f"nope ![r]({PROBE}/r.png) <img src={PROBE}/i.png> **bold** [l]({PROBE}/l) {PROBE}/bare :red[red] "
    f"www.example.com $x$"
)
# The same between backticks, to break out of a code span the value might be put in.
HOSTILES = [HOSTILE, f"nope` {HOSTILE} `", f"``{HOSTILE}"]
# Every URL key a page or the sidebar reads (widget values are checked against their options; free text is not).
URL_KEYS = [
    "country", "lang", "age", "gender", "edu", "pol", "turn", "balanced", "pregen",
    "ov_measure", "br_q", "br_conv", "br_page", "br_full", "ag_by", "ag_sort", "ag_min", "ag_minc", "ag_open",
    "sql_q", "sql_limit", "sql_timeout", "vm_emb", "vm_dispersion", "vm_max", "vm_llmpts", "vm_anchor_lang",
    "sl_strategies", "sl_prompts", "sl_pool", "sl_pool_on", "sl_paste", "sl_example_seed",
    "rr_metric", "rr_mode", "rr_models", "rr_strategies", "rr_utility",
]  # fmt: skip


def _structured(hostile: str) -> dict[str, str]:
    """Parameters with a structure of their own, holding hostile names: a population, model positions."""
    name = hostile.replace(";", ",")
    return {
        "rr_pop": f"{name}:-0.6,-0.6,0.2,0.5;{name} 2:0.6,0.6,0.2,0.5",
        "sl_models": json.dumps([[name, 0.5, 0.5, 0.1], [name + " 2", -0.5, -0.5, 0.1]]),
    }


def _shown(at) -> list[str]:
    """Every Markdown body, label and help text the page sent."""
    texts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader", "title", "header",
                 "toast", "exception"):  # fmt: skip
        texts += [str(getattr(e, "value", "") or getattr(e, "message", "")) for e in at.get(kind)]
    for metric in at.metric:
        texts += [metric.label, metric.proto.help]
    texts += [e.label for e in at.expander]
    return texts


def _assert_harmless(at, where: str) -> None:
    assert not at.exception, (where, [e.message for e in at.exception])
    for text in _shown(at):
        rendered = assert_loads_nothing(text)
        assert f'href="{PROBE}' not in rendered, (where, text)
        assert not [u for u in bare_urls(text) if "127.0.0.1:9" in u or "example.com" in u], (where, text)


@pytest.fixture(scope="module")
def hostile_db(demo_db, tmp_path_factory):
    """The demo with hostile text in every field Browse, Overview and Agreement show as it is."""
    path = tmp_path_factory.mktemp("hostile") / "demo.duckdb"
    shutil.copy(demo_db, path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE annotators SET age = ?, education = ?, ethnicity = ?, gender = ?, political = ? "
            "WHERE annotator_id = (SELECT min(annotator_id) FROM annotators)",
            [HOSTILE] * 5,
        )
        con.execute("UPDATE conversations SET wave = ?", [HOSTILE])
        con.execute("UPDATE meta SET value = ? WHERE key = 'source'", [HOSTILE])
        cid = con.execute(
            "SELECT min(conversation_id) FROM conversations WHERE annotator_id = (SELECT min(annotator_id) "
            "FROM annotators)"
        ).fetchall()[0][0]
    return path, cid


@pytest.mark.parametrize("hostile", HOSTILES)
@pytest.mark.parametrize("page", [p.path for p in registry.PAGES])
def test_a_link_with_hostile_parameters_renders_nothing_that_loads_or_links(demo_db, monkeypatch, page, hostile):
    make = app_on(demo_db, monkeypatch)
    at = make(page if page != registry.PAGES[0].path else None, **dict.fromkeys(URL_KEYS, hostile))
    _assert_harmless(at, page)


@pytest.mark.parametrize("hostile", HOSTILES)
@pytest.mark.parametrize(
    ("page", "key"), [("pages/reward_recovery.py", "rr_pop"), ("pages/sampling_lab.py", "sl_models")]
)
def test_hostile_names_in_a_shared_population_or_model_table_render_as_text(demo_db, monkeypatch, page, key, hostile):
    """Group and model names travel in the link (rr_pop, sl_models) and reach sentences on the page."""
    at = app_on(demo_db, monkeypatch)(page, **{key: _structured(hostile)[key]})
    _assert_harmless(at, page)
    if key == "rr_pop":
        assert any("nope" in text for text in _shown(at)), "the names are shown in the page's sentences"


def test_hostile_data_fields_render_as_text_on_browse_and_overview(hostile_db, monkeypatch):
    path, cid = hostile_db
    make = app_on(path, monkeypatch)
    for page, params in ((None, {}), ("pages/browse.py", {"br_conv": cid}), ("pages/agreement.py", {})):
        at = make(page, **params)
        _assert_harmless(at, page or "overview")
    browse = make("pages/browse.py", br_conv=cid)
    shown = "\n".join(_shown(browse))
    assert "nope" in shown and "bold" in shown  # the hostile values are there, as text
