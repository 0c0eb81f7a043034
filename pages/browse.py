"""Browse: search prompts, page through conversations, and read one conversation turn by turn."""

from __future__ import annotations

import streamlit as st

from analysis import queries as Q
from analysis import schema as S
from ui import db, sidebar, state, widgets

state.ensure_app_shell()
state.own_page("br_")
filters = sidebar.current_filters()
PAGE_SIZE = Q.DEFAULT_PAGE_SIZE

st.title("Browse conversations")

# ---- URL state --------------------------------------------------------------------------------------------------
state.init("br_q", state.read_str("br_q", ""))
state.init("br_conv", state.read_str("br_conv", ""))
page_from_url = state.read_int("br_page", 1, lo=1)


def _open(conversation_id: str) -> None:
    st.session_state["br_conv"] = conversation_id


def _close() -> None:
    st.session_state["br_conv"] = ""
    st.session_state["br_nonce"] = st.session_state.get("br_nonce", 0) + 1  # a fresh list, nothing selected


# ---- the reader -------------------------------------------------------------------------------------------------
def _reader(conversation_id: str) -> None:
    conv = db.cached(Q.conversation, conversation_id)
    if conv is None:
        st.error(
            f"No conversation with id `{conversation_id}` in this database. Pick one from the list below "
            "(the link may come from another database)."
        )
        st.button("Back to the list", on_click=_close, key="br_back_missing")
        return
    info, turns = conv["info"], conv["turns"]
    top = st.columns([5, 1])
    top[0].subheader(f"Conversation `{conversation_id}`")
    top[1].button("✕ Close", on_click=_close, key="br_close", help="Back to the list")
    main, side = st.columns([5, 1], gap="medium")
    with side:
        st.markdown("**Annotator**")
        lang = info.get("assigned_lang")
        rows = {
            "Annotator": info.get("annotator_id"),
            "Country": info.get("country"),
            "Language": f"{S.LANGUAGE_NAMES.get(lang, lang)} ({lang})" if lang else None,
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
        st.markdown("\n".join(f"- **{k}:** {v if v not in (None, '') else Q.NOT_GIVEN}" for k, v in rows.items()))
    with main:
        for turn in turns.iter_rows(named=True):
            with st.container(border=True):
                st.markdown(f"**Turn {turn['turn']} — prompt**")
                st.markdown(widgets.md_escape(turn["prompt"]) if turn["prompt"] else "_(no prompt)_")
                cols = st.columns(4)
                for col, letter in zip(cols, S.LETTERS, strict=True):
                    chosen = turn["chosen"] == letter
                    with col:
                        with st.container(border=True):
                            st.markdown(f"**{letter.upper()}** " + (":green-badge[✔ chosen]" if chosen else ""))
                            st.markdown(widgets.md_escape(turn[letter]) or "_(empty)_")
                if turn["feedback"]:
                    st.markdown(f":material/chat: **Feedback:** {widgets.md_escape(turn['feedback'])}")
                else:
                    st.caption("No written feedback on this turn.")
    with st.expander("Table: this conversation"):
        widgets.table(turns, f"conversation_{conversation_id}", key="br_conv_table")


# ---- search and list --------------------------------------------------------------------------------------------
q = st.text_input(
    "Search prompts (all turns; case-insensitive text match)", key="br_q",
    placeholder="e.g. boss, famille, लड़की, trabalho",
)  # fmt: skip
state.write("br_q", q.strip(), default="")

total = db.cached(Q.count_conversations, filters, q)
pages = Q.page_count(total, PAGE_SIZE)
# One pagination widget per (filters, search): a new search starts on page 1; the URL's page is used on the first one.
list_key = f"br_page_{abs(hash((repr(filters), q.strip()))) % 10**12}"
first_page = 1
if not st.session_state.get("br_url_page_used"):
    st.session_state["br_url_page_used"] = True
    first_page = min(page_from_url, pages)

conv_id = st.session_state.get("br_conv", "")
state.write("br_conv", conv_id, default="")
if conv_id:
    _reader(conv_id)
    st.divider()

st.subheader(f"{total:,} conversations" + (f" whose prompts contain “{q.strip()}”" if q.strip() else ""))
if total == 0:
    st.info("Nothing matches. Try another word, or widen the filters in the sidebar.")
else:
    page = min(st.pagination(pages, default=first_page, key=list_key, max_visible_pages=9), pages)
    state.write("br_page", page, default=1)
    frame, _ = db.cached(Q.search_conversations, filters, q, page, PAGE_SIZE)
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
    if rows:
        picked = frame["conversation_id"][rows[0]]
        if picked != conv_id:
            st.session_state["br_conv"] = picked
            st.rerun()
