"""The file a ``voxelio.load`` in progress reads, for messages raised without it.

A header's checks log what they find while the header is parsed from a
stream that may not know its name; the log line should still say which
file it is about. :func:`voxelio.load` sets the name here for the time of
the load (a context variable: threads and tasks each see their own).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "voxelio_loading_file", default=None
)


@contextlib.contextmanager
def loading(name: str) -> Iterator[None]:
    """Within the block, :func:`current_file` is ``name``."""
    token = _CURRENT.set(name)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_file() -> str | None:
    """The file the load in progress reads, or None outside a load."""
    return _CURRENT.get()
