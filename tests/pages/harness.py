"""The AppTest harness of the page tests: a session opened from a link on a given database, and readers of what it
shows. (tests/pages/conftest.py keeps AppTest in the navigation mode the real server uses.)"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import registry

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 60


def _prefix(page: str) -> str:
    return registry.page(page).prefix


def app_on(db: Path, monkeypatch):
    """A factory of sessions on ``db``: ``make(page, **url_params)``."""
    monkeypatch.setenv("CAE_DB", str(db))

    def make(page: str | None = None, **params: str) -> AppTest:
        """A session opened from a link: the filters (and, for the landing page, its state) in the first URL;
        another page's own state is in the URL when that page opens (AppTest always lands on the default page)."""
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        own = {k: v for k, v in params.items() if page and k.startswith(_prefix(page))}
        for key, value in params.items():
            if key not in own:
                at.query_params[key] = value
        at.run()
        if page:
            for key, value in own.items():
                at.query_params[key] = value
            at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return make


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def text(at: AppTest) -> str:
    """Every text element's Markdown source, as the page sent it."""
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [e.value for e in at.error] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)
