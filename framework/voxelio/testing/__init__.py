"""Test helpers for plugin authors (needs pytest).

:class:`FormatConformance` is the reusable conformance suite: subclass it
in your plugin's tests with ``format_name = "<your format>"``. See
docs/plugin-authors.md.
"""

from .conformance import FormatConformance

__all__ = ["FormatConformance"]
