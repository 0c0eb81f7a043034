"""The Tour as one self-contained HTML file that students keep: every step's sentence, figures and labels, with
plotly.js inlined once (no CDN, no font or script from elsewhere), so it opens offline in any browser.

Every text is HTML-escaped (the sentences name countries, LLMs and groups from the data); links are written out as
text, never loaded. Importable without Streamlit.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.io as pio
from plotly.offline import get_plotlyjs

from charts.tour import TourPart, TourStep

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.4rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-top: 1px solid #ddd; padding-top: 1rem; }
.meta, .caption, .notes, footer { color: #555; font-size: 0.9rem; }
.label { background: #fff4d6; border: 1px solid #e8c46a; padding: 0.5rem 0.8rem; border-radius: 6px; }
.finding { font-style: italic; }
.takeaway { background: #eef5ec; border-left: 4px solid #3b8c3b; padding: 0.6rem 0.9rem; }
.missing { background: #eef2f8; border-left: 4px solid #4c78a8; padding: 0.6rem 0.9rem; }
code { background: #f3f3f3; padding: 0.1rem 0.3rem; border-radius: 3px; word-break: break-all; }
"""
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class HandoutMeta:
    title: str
    made: str  # when and from what it was made (plain text)
    labels: tuple[str, ...] = ()  # shown on top: synthetic data, illustrative parameters (plain text)
    footer: str = ""


def _p(cls: str, text: str) -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def _figure(fig, div_id: str) -> str:
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=PLOT_CONFIG, div_id=div_id)


def _part_html(part: TourPart, number: int, index: int) -> list[str]:
    parts = [f"<h3>{html.escape(part.heading)}</h3>"] if part.heading else []
    if part.missing:
        parts.append(_p("missing", part.missing))
    if part.sentence:
        parts.append(_p("takeaway", part.sentence))
    for i, f in enumerate(part.figures):
        parts.append(_figure(f.figure, f"step-{number}-part-{index}-figure-{i}"))
        parts.append(_p("caption", f.caption))
    return parts


def step_html(step: TourStep) -> str:
    parts = [f'<section id="step-{step.number}">', f"<h2>{step.number} · {html.escape(step.title)}</h2>"]
    parts.append(_p("finding", f"The research: {step.finding}"))
    parts += [_p("label", note) for note in step.notes]
    for i, part in enumerate(step.parts):
        parts += _part_html(part, step.number, i)
    parts.append("</section>")
    return "\n".join(parts)


def handout_html(steps: Sequence[TourStep], meta: HandoutMeta, links: dict[str, str] | None = None) -> str:
    """The whole tour as one HTML document (a string). ``links``: step key -> the address that opens it (shown as
    text under the step)."""
    body = []
    for step in steps:
        body.append(step_html(step))
        if links and links.get(step.key):
            body.append(
                f'<p class="meta">Open this step in the explorer: <code>{html.escape(links[step.key])}</code></p>'
            )
    labels = "\n".join(_p("label", text) for text in meta.labels)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(meta.title)}</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>{html.escape(meta.title)}</h1>
{_p("meta", meta.made)}
{labels}
</header>
{chr(10).join(body)}
<footer>{html.escape(meta.footer)}</footer>
</body>
</html>
"""
