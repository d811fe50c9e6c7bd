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
exclude_patterns = ["_build"]
