"""Kept only while pages move to ui.state.ensure_app_shell (the one implementation)."""

from ui.state import ensure_app_shell

__all__ = ["ensure_app_shell"]
