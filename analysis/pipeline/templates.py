"""The demo's text templates (``analysis/content/demo_templates.json``): topics with their prompts and follow-ups in
five languages, value stances per pole, openers, closers and feedback. Read by the demo generator and the synthetic
LLM profiles."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "content" / "demo_templates.json"


@lru_cache(maxsize=1)
def load_templates(path: str | None = None) -> dict:
    return json.loads(Path(path or TEMPLATES).read_text(encoding="utf-8"))
