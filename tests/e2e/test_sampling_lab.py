"""Browser test of the Sampling lab: the real server, headless Chromium, one interaction, a screenshot."""

from __future__ import annotations

import re

from analysis.lab import strategies
from charts import sampling

SMALL = "sl_prompts=250&sl_seeds=2"  # a small run keeps the browser test quick


def _percentages(sentence: str) -> list[int]:
    return [int(v) for v in re.findall(r"(\d+)%", sentence)]


def test_sampling_lab_in_a_browser(server_url, page, app_ready, save_screenshot, pixels):
    page.goto(f"{server_url}/sampling_lab?{SMALL}")
    app_ready(page)
    main = page.get_by_test_id("stMainBlockContainer")
    assert page.get_by_role("heading", name="Sampling lab").is_visible()
    text = main.inner_text()
    assert "Illustrative model positions" in text
    assert "reported in the paper" in text
    # The research's qualitative result is readable on the page with the defaults.
    headline = main.get_by_text(re.compile(r"^Simulated: NC sets reach")).inner_text()
    nc_trad, nc_surv, iid_trad, iid_surv = _percentages(headline)[:4]
    assert nc_trad > 2 * iid_trad and nc_surv > iid_surv
    assert page.locator(".js-plotly-plot").count() >= 2  # coverage bars and the example planes

    # One interaction: turn NC strength down to 0 with the keyboard; NC then is i.i.d. sampling.
    slider = main.get_by_test_id("stSlider").filter(has_text="NC strength").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    app_ready(page)
    assert "sl_nc=0" in page.url  # the view is in the URL
    after = main.get_by_text(re.compile(r"^Simulated: NC sets reach")).inner_text()
    nc_trad0, nc_surv0, iid_trad0, iid_surv0 = _percentages(after)[:4]
    assert (nc_trad0, nc_surv0) == (iid_trad0, iid_surv0)

    slider.press("End")  # back to strong repulsion for the screenshot
    app_ready(page)
    # the example planes: 4 strategies x 3 example prompts x k = 4 candidates, plus the 5 model crosses per panel
    assert pixels.markers(page, 1) == 4 * 3 * 4 + 4 * len(strategies.DEFAULT_MODELS)
    path = save_screenshot(page, "sampling_lab")
    assert pixels.share(path, sampling.SET_COLOURS[0]) > 1e-4  # the first example set's colour is on screen
