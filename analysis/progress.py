"""Progress for long work, one idiom everywhere: ``progress`` is True (a tqdm bar on stderr, with rate and ETA), a
callable ``progress(done, total)`` (what the app passes, to drive st.progress), or None/False (nothing)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Callback = Callable[[int, int], Any]


class Bar:
    """A counter that reports to a tqdm bar or a callback; use as a context manager or call close()."""

    def __init__(self, progress: Any, total: int, desc: str, unit: str = "it") -> None:
        self.callback: Callback | None = progress if callable(progress) else None
        self.total, self.done = int(total), 0
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def update(self, n: int) -> None:
        """``n`` more units done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def set(self, done: int, total: int | None = None) -> None:
        """Absolute position (for callers that report done/total themselves)."""
        if total is not None and total != self.total:
            self.total = int(total)
            if self.bar is not None:
                self.bar.total = self.total
        self.update(int(done) - self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
