"""The background embedding job on a page: its progress with an ETA (refreshed every few seconds without rerunning the
page), start and stop, and an offer to update the figures with what it has written since (ui.db.refresh_derived)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.pipeline import embed_job, shards
from ui import db, safe_text

REFRESH_S = 5
ACTIVE = ("starting", "running", "stopping")


def _progress(status: dict) -> None:
    done, total = int(status.get("done") or 0), int(status.get("total") or 0)
    rate = status.get("rate")
    text = f"Embedding in the background: {done:,} of {total:,} texts" + (
        f" · {rate:.1f} texts/s · about {embed_job.eta_text(status.get('eta_s'))} left"
        if rate
        else " · estimating the rate…"
    )
    st.progress(done / total if total else 0.0, text=text)
    if status.get("max_tokens"):
        st.caption(
            f"Texts are cut to their first {status['max_tokens']} tokens before embedding (faster; see "
            "bench/README.md for what it does to the axes' accuracy)."
        )


@st.fragment(run_every=REFRESH_S)
def _live(db_path: str) -> None:
    status = embed_job.status(db_path)
    if status.get("state") in ACTIVE:
        _progress(status)
        c1, c2 = st.columns([1, 1])
        if shards.stamp(db_path) != db.derived_stamp():
            if c1.button(
                "Update the figures with the texts embedded since",
                key="bg_refresh",
                help="The figures below use what was embedded when you opened the page; this recomputes them.",
            ):
                db.refresh_derived()
                st.rerun()
        if c2.button("Stop the background job", key="bg_stop", help="It writes what it has and stops; start it again "
                     "to resume."):  # fmt: skip
            embed_job.stop(db_path)
    else:
        st.caption(safe_text.plain(f"Background embedding: {embed_job.describe(status)}."))
        if st.button("Show the figures with everything embedded", key="bg_refresh_end"):
            db.refresh_derived()
            st.rerun()


def job_panel(db_path: Path, model: str, n_texts: int, n_placed: int) -> None:
    """The job's panel: live progress while it runs; otherwise its last state and a start button when texts remain."""
    status = embed_job.status(db_path)
    if status.get("state") in ACTIVE:
        _live(str(db_path))
        return
    if status.get("state") not in (None, "none"):
        st.caption(safe_text.plain(f"Background embedding: {embed_job.describe(status)}."))
    if shards.stamp(db_path) != db.derived_stamp():
        st.button("Update the figures with everything embedded", key="bg_refresh_done", on_click=db.refresh_derived)
    remaining = n_texts - n_placed
    if remaining <= 0:
        return
    if st.button(
        f"Embed the remaining {remaining:,} texts in the background (sample first)",
        key="bg_start",
        help="A separate process embeds a stratified sample of comparisons first, then everything else; the findings "
        "below tighten as it goes. It keeps running when you close the page, can be stopped and resumed, and the "
        f"command line does the same: python -m analysis embed-job start --db {db_path}",
    ):
        try:
            started = embed_job.start(db_path, model)
        except embed_job.JobRunning as exc:
            st.warning(safe_text.plain(exc))
            return
        if started.get("state") == "failed":
            st.error(safe_text.plain(f"The background job could not start: {started.get('message', '')}"))
            return
        st.rerun()
