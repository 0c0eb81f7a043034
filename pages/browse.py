"""Browse: search prompts, page through conversations, and read one conversation turn by turn."""

from __future__ import annotations

import streamlit as st

from analysis import schema
from analysis.explore import browse
from analysis.filters import Filters
from ui import db, safe_text, sidebar, state, widgets

PAGE_SIZE = browse.DEFAULT_PAGE_SIZE


def _open(conversation_id: str) -> None:
    st.session_state["br_conv"] = conversation_id


def _close() -> None:
    st.session_state["br_conv"] = ""
    st.session_state["br_nonce"] = st.session_state.get("br_nonce", 0) + 1  # a fresh list, nothing selected


def annotator_panel(info: dict) -> None:
    st.markdown("**Annotator**")
    lang = info.get("assigned_lang")
    rows = {
        "Annotator": info.get("annotator_id"),
        "Country": info.get("country"),
        "Language": f"{schema.LANGUAGE_NAMES.get(lang, lang)} ({lang})" if lang else None,
        "Age": info.get("age"),
        "Gender": info.get("gender"),
        "Education": info.get("education"),
        "Political leaning": info.get("political"),
        "Ethnicity": info.get("ethnicity"),
        "Conversations by them": info.get("n_conversations"),
        "Wave": info.get("wave"),
        "Pregenerated first prompt": "yes" if info.get("is_pregenerated_first_prompt") else "no",
        "Balanced subset": "yes" if info.get("in_balanced_subset") else "no",
    }
    st.markdown("\n".join(f"- **{k}:** {_field(v)}" for k, v in rows.items()))


def _field(value) -> str:
    """A data value as text that is neither Markdown nor a link (safe_text.literal); 'not given' for a blank."""
    return safe_text.plain(schema.NOT_GIVEN) if value in (None, "") else safe_text.literal(value)


def repeated_slots(turn: dict) -> list[tuple[str, ...]]:
    """Groups of slots that hold the same text (e.g. [("b", "d")]): one text offered twice."""
    groups: dict[str, list[str]] = {}
    for letter in schema.LETTERS:
        if turn[letter]:
            groups.setdefault(turn[letter], []).append(letter)
    return [tuple(g) for g in groups.values() if len(g) > 1]


def turn_panel(turn: dict, full: bool) -> None:
    """One turn: the prompt, the four candidates side by side (the chosen one marked), the feedback."""
    with st.container(border=True):
        st.markdown(f"**Turn {turn['turn']} — prompt**")
        widgets.data_markdown(turn["prompt"], full, empty="_(no prompt)_")
        for same in repeated_slots(turn):
            st.caption(
                f":material/content_copy: {' and '.join(s.upper() for s in same)} are the same text: the annotator "
                "saw one answer twice (it counts as one text wherever agreement and positions are computed)."
            )
        for col, letter in zip(st.columns(4), schema.LETTERS, strict=True):
            with col, st.container(border=True):
                st.markdown(f"**{letter.upper()}** " + (":green-badge[✔ chosen]" if turn["chosen"] == letter else ""))
                widgets.data_markdown(turn[letter], full)
        if turn["feedback"]:
            st.markdown(":material/chat: **Feedback:**")
            widgets.data_markdown(turn["feedback"], full)
        else:
            st.caption("No written feedback on this turn.")


def reader(conversation_id: str) -> None:
    conv = db.cached(browse.conversation, conversation_id)
    if conv is None:
        st.error(
            f"No conversation with id {safe_text.literal(conversation_id)} in this database. Pick one from the list "
            "below (the link may come from another database)."
        )
        st.button("Back to the list", on_click=_close, key="br_back_missing")
        return
    top = st.columns([5, 1])
    top[0].subheader(f"Conversation {safe_text.literal(conversation_id)}")
    top[1].button("✕ Close", on_click=_close, key="br_close", help="Back to the list")
    main_col, side = st.columns([5, 1], gap="medium")
    with side:
        annotator_panel(conv["info"])
    with main_col:
        full = state.url_widget(st.toggle, "Show long texts in full", key="br_full", default=False,
                                read=state.read_bool, help="Long answers sit in a scrollable box until you switch this on.")  # fmt: skip
        for turn in conv["turns"].iter_rows(named=True):
            turn_panel(turn, full)
    with st.expander("Table: this conversation"):
        widgets.table(conv["turns"], f"conversation_{conversation_id}", key="br_conv_table")


def _first_page(page_from_url: int, pages: int) -> int:
    """The page number a list opens on: the URL's on the session's first list, page 1 after a new search."""
    if st.session_state.get("br_url_page_used"):
        return 1
    st.session_state["br_url_page_used"] = True
    return min(page_from_url, pages)


def conversation_list(filters: Filters, q: str, page_from_url: int) -> None:
    total = db.cached(browse.count_conversations, filters, q)
    pages = browse.page_count(total, PAGE_SIZE)
    # One pagination widget per (filters, search): a new search starts on page 1.
    list_key = f"br_page_{abs(hash((repr(filters), q.strip()))) % 10**12}"
    first_page = _first_page(page_from_url, pages)
    st.subheader(
        f"{total:,} conversations" + (f" whose prompts contain {safe_text.literal(q.strip())}" if q.strip() else "")
    )
    if total == 0:
        st.info("Nothing matches. Try another word, or widen the filters in the sidebar.")
        return
    page = min(st.pagination(pages, default=first_page, key=list_key, max_visible_pages=9), pages)
    state.write("br_page", page, default=1)
    frame, _ = db.cached(browse.search_conversations, filters, q, page, PAGE_SIZE)
    st.caption(f"Page {page} of {pages}. Select a row to read the conversation.")
    selection = widgets.table(
        frame,
        f"conversations_page_{page}",
        key=f"br_list_{st.session_state.get('br_nonce', 0)}",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "prompt": st.column_config.TextColumn("First prompt (filtered turns)", width="large"),
            "conversation_id": st.column_config.TextColumn("Conversation"),
        },
    )
    rows = selection.selection.rows if selection is not None else []
    if rows and frame["conversation_id"][rows[0]] != st.session_state.get("br_conv", ""):
        _open(frame["conversation_id"][rows[0]])
        st.rerun()


def main() -> None:
    state.page_start("br_")
    filters = sidebar.current_filters()
    st.title("Browse conversations")
    state.init("br_conv", state.read_str("br_conv", ""))
    page_from_url = state.read_int("br_page", 1, lo=1)
    q = state.url_widget(
        st.text_input, "Search prompts (all turns; case-insensitive text match)", key="br_q", default="",
        placeholder="e.g. boss, famille, लड़की, trabalho",
    )  # fmt: skip
    state.write("br_q", q.strip(), default="")
    conv_id = st.session_state.get("br_conv", "")
    state.write("br_conv", conv_id, default="")
    if conv_id:
        reader(conv_id)
        st.divider()
    conversation_list(filters, q, page_from_url)


main()
