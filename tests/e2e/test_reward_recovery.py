"""Browser test of the Reward recovery page: the real server, headless Chromium, one interaction, a screenshot."""

from __future__ import annotations

from urllib.parse import unquote_plus

from analysis.lab import population
from charts import reward

SMALL = "rr_annotators=100&rr_per=5&rr_seeds=1"  # a small run keeps the browser test quick


def test_reward_recovery_page_in_a_browser(server_url, page, app_ready, save_screenshot, pixels):
    page.goto(f"{server_url}/reward_recovery?{SMALL}")
    app_ready(page)
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_text("Per group", exact=True).wait_for()
    assert page.get_by_role("heading", name="Reward-model recovery").is_visible()
    text = main.inner_text()
    assert "Illustrative simulation" in text
    assert "Brazil and India" in text and "closer with" in text  # the sentence computed from the run
    assert "iid candidates" in text and "nc candidates" in text  # two strategies side by side
    assert page.locator(".js-plotly-plot").count() == 2

    # one interaction: switch the learning curves to the ideal-point error
    combo = page.get_by_role("combobox", name="Metric")
    combo.click()
    combo.fill("ideal-point")
    page.get_by_role("option", name="ideal-point error (mean over groups)").wait_for()
    combo.press("Enter")
    app_ready(page)
    assert "ideal-point error (mean over groups)" in unquote_plus(page.url)  # the view is in the URL
    y_titles = [t.text_content() for t in page.locator(".js-plotly-plot .ytitle").all()]
    assert "ideal-point error (mean over groups)" in y_titles
    # the ideal-point planes: a true star per country and a recovered point per country and model, in each panel
    groups, panels = len(population.DEFAULT_GROUPS), 2
    assert pixels.markers(page, 0) >= panels * groups * 2
    path = save_screenshot(page, "reward_recovery")
    # the group-conditioned model's blue and the pooled model's red are drawn, not a blank or an error page
    assert pixels.share(path, reward.MODEL_COLOURS["conditional"]) > 1e-4
    assert pixels.share(path, reward.MODEL_COLOURS["pooled"]) > 1e-5
