"""Sphinx configuration for the voxelio documentation."""

project = "voxelio"
author = "the voxelio developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
try:  # Markdown pages need myst-parser; the RST pages build without it
    import myst_parser  # noqa: F401

    extensions.append("myst_parser")
except ImportError:
    source_suffix = {".rst": "restructuredtext"}
napoleon_numpy_docstring = True
html_theme = "alabaster"
exclude_patterns = ["_build", "_scripts"]


def _draw_figures() -> None:
    """Pictures made from the code at build time (skipped without matplotlib)."""
    import contextlib
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "_scripts"))
    try:
        import axis_codes_figure
    except ImportError:
        return
    # without matplotlib there is no picture: the orientation page says it in words
    with contextlib.suppress(ImportError):
        axis_codes_figure.draw(os.path.join(here, "_generated", "axis_codes.png"))


_draw_figures()
