"""The one URL-state idiom (ui.state.url_widget and the read_* parsers), run in a real Streamlit script with AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from ui import state

    state.page_start("sl_")
    state.url_widget(st.slider, "k", key="sl_k", default=4, read=state.read_int, read_args={"lo": 2, "hi": 8},
                     min_value=2, max_value=8)  # fmt: skip
    state.url_widget(st.slider, "t", key="sl_t", default=0.5, read=state.read_float, read_args={"lo": 0.0, "hi": 1.0},
                     min_value=0.0, max_value=1.0, step=0.05)  # fmt: skip
    state.url_widget(st.multiselect, "s", key="sl_s", default=["a", "b"], read=state.read_list,
                     read_args={"choices": ["a", "b", "c"]}, options=["a", "b", "c"])  # fmt: skip
    state.url_widget(st.toggle, "on", key="sl_on", default=False, read=state.read_bool)


def _app(**query) -> AppTest:
    at = AppTest.from_function(_script)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_values_come_from_the_url_parsed_and_validated():
    at = _app(sl_k="6", sl_t="0.25", sl_s=["c", "a", "zz"], sl_on="true")
    assert not at.exception
    assert at.slider(key="sl_k").value == 6
    assert at.slider(key="sl_t").value == 0.25
    assert at.multiselect(key="sl_s").value == ["c", "a"]  # an unknown value is dropped
    assert at.toggle(key="sl_on").value is True


def test_bad_or_out_of_range_values_fall_back_or_clamp():
    at = _app(sl_k="99", sl_t="nan", sl_on="maybe")
    assert at.slider(key="sl_k").value == 8
    assert at.slider(key="sl_t").value == 0.5
    assert at.toggle(key="sl_on").value is False


def test_defaults_leave_the_url_and_changes_enter_it_as_values():
    at = _app(sl_k="4")
    assert "sl_k" not in dict(at.query_params)  # the default keeps links short
    at.slider(key="sl_k").set_value(7).run()
    at.slider(key="sl_t").set_value(1.0).run()
    at.multiselect(key="sl_s").set_value(["b", "c"]).run()
    params = at.query_params
    assert params["sl_k"] == "7" and params["sl_t"] == "1"
    assert params["sl_s"] == ["b", "c"]  # a list is a repeated key


def test_own_page_drops_the_other_pages_state_but_keeps_the_filters():
    at = _app(vm_view="UMAP", br_conv="x", country="India", sl_k="5")
    params = dict(at.query_params)
    assert "vm_view" not in params and "br_conv" not in params
    assert params["country"] == "India" and params["sl_k"] == "5"
