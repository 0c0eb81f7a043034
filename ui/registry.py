"""The one list of pages: where each lives, its title and icon in the navigation, and the URL-key prefix of its own
state. app.py builds st.navigation from it; ui.state uses the prefixes to keep only the shown page's state in a link.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str  # the page file, relative to the repository root
    title: str
    icon: str
    prefix: str  # URL keys of the page's own state start with this

    @property
    def url_path(self) -> str:
        """The page's address under the app (/overview, /browse, ...), as Streamlit derives it from the file name."""
        return self.path.removeprefix("pages/").removesuffix(".py")


# The first entry is the landing page; the order is the menu's.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", "ov_"),
    PageSpec("pages/tour.py", "Tour", ":material/tour:", "tour_"),
    PageSpec("pages/browse.py", "Browse conversations", ":material/forum:", "br_"),
    PageSpec("pages/agreement.py", "Prompt agreement", ":material/how_to_vote:", "ag_"),
    PageSpec("pages/values_map.py", "Values map", ":material/scatter_plot:", "vm_"),
    PageSpec("pages/sampling_lab.py", "Sampling lab", ":material/science:", "sl_"),
    PageSpec("pages/reward_recovery.py", "Reward recovery", ":material/model_training:", "rr_"),
    PageSpec("pages/preferences.py", "Preferences from the data", ":material/diversity_3:", "pf_"),
    PageSpec("pages/sql_console.py", "SQL console", ":material/terminal:", "sql_"),
)
PREFIXES: tuple[str, ...] = tuple(p.prefix for p in PAGES)


def page(path: str) -> PageSpec:
    """The registry entry of a page file."""
    for spec in PAGES:
        if spec.path == path:
            return spec
    raise KeyError(f"{path} is not in ui.registry.PAGES")
