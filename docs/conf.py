"""Sphinx configuration for the voxelio documentation site.

Built by ``make docs`` (HTML into ``docs/_build/html``) and by ``make test``
(``tests/docs/test_site.py``), both with warnings as errors, so a broken
reference, a malformed docstring or a page missing from every toctree fails
the build. The tools are listed in ``requirements-docs.txt``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# our own extensions (docs/_ext) and the build-time figure scripts (docs/_scripts)
sys.path.insert(0, os.path.join(HERE, "_ext"))

project = "voxelio"
author = "the voxelio developers"
copyright = "the voxelio developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    # doctest blocks in the guides parse as code here; pytest runs them (make test)
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "cli_reference",
    "public_api",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_scripts", "_ext", "_generated", "conftest.py"]
root_doc = "index"

# -- Markdown pages (myst-parser) -----------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
# headings of Markdown pages are link targets ([text](page.md#a-heading))
myst_heading_anchors = 3

# -- API reference (autodoc + numpydoc) -----------------------------------------
# numpydoc alone parses the docstrings (no napoleon: two parsers of the same
# docstring would each add their own sections)
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"show-inheritance": True}
autosummary_generate = False  # tables only; every page is written by hand (docs/api)
numpydoc_show_class_members = False  # autodoc's :members: lists them once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc's docstring validation stays off: the -W build already fails on the
# docstrings numpydoc cannot parse, which is the part readers see
numpydoc_validation_checks: set[str] = set()

# Every public module the reference documents (docs/api, `.. public-api::`).
# An object several of them export is documented once, under the first module
# here that exports it, and linked from the others: defining modules first,
# the facades (voxelio.plugin, the top-level package) last.
public_api_modules = [
    "voxelio.errors",
    "voxelio.image",
    "voxelio.imagefiles",
    "voxelio.imagestreams",
    "voxelio.header",
    "voxelio.structheader",
    "voxelio.codes",
    "voxelio.dtypes",
    "voxelio.proxy",
    "voxelio.reoriented",
    "voxelio.filemaps",
    "voxelio.openfiles",
    "voxelio.sources",
    "voxelio.codecs",
    "voxelio.codecs.handoff",
    "voxelio.writing",
    "voxelio.dataio",
    "voxelio.api",
    "voxelio.registry",
    "voxelio.hookspecs",
    "voxelio.testing",
    "voxelio.testing.conformance",
    "voxelio.testing.filesafety",
    "voxelio.orientation",
    "voxelio.geometry",
    "voxelio.limits",
    "voxelio.diagnosis",
    "voxelio.integrations.nibabel",
    "voxelio.integrations.dask",
    "voxelio.integrations.xarray",
    "voxelio.scaffold",
    "voxelio.plugin",
    "voxelio",
]

# The integration modules import their library (voxelio.integrations.xarray
# imports xarray at the top); where one is not installed its module is
# documented against a stand-in, so the reference still builds
autodoc_mock_imports = [name for name in ("xarray", "dask", "nibabel")
                        if importlib.util.find_spec(name) is None]

# -- Links to other projects' documentation (intersphinx) -------------------------
# Intersphinx downloads each project's objects.inv at build time. This machine
# (and many CI runners) has no network, and a failed download is a warning, so
# it would break the -W build; other projects' inventories are not committed
# either. Links to Python, NumPy and NiBabel are therefore made only when asked
# for: VOXELIO_DOCS_INTERSPHINX=1 make docs. Without it, the same references
# render as plain code text and the build stays offline and deterministic.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "nibabel": ("https://nipy.org/nibabel", None),
}
if os.environ.get("VOXELIO_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_timeout = 10

# -- HTML -----------------------------------------------------------------------
html_theme = "furo"
html_title = "voxelio"
html_static_path: list[str] = []


def _draw_figures() -> None:
    """Pictures made from the code at build time (skipped without matplotlib)."""
    import contextlib

    sys.path.insert(0, os.path.join(HERE, "_scripts"))
    try:
        import axis_codes_figure
    except ImportError:
        return
    # without matplotlib there is no picture: the orientation page says it in words
    with contextlib.suppress(ImportError):
        axis_codes_figure.draw(os.path.join(HERE, "_generated", "axis_codes.png"))


_draw_figures()
