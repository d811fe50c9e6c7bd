"""voxelio-analyze: the Analyze 7.5 format (``.hdr`` + ``.img``) for voxelio.

``voxelio_analyze.plugin`` is the entry module (cheap: it imports neither
numpy nor reader code). The format lives in ``voxelio_analyze.header``
(:class:`AnalyzeHeader`) and ``voxelio_analyze.image`` (:class:`AnalyzeImage`);
both are importable from here, lazily.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "AnalyzeHeader": "voxelio_analyze.header",
    "AnalyzeImage": "voxelio_analyze.image",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voxelio_analyze' has no attribute {name!r}")


__all__ = ["AnalyzeHeader", "AnalyzeImage", "__version__"]
