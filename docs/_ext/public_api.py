"""A Sphinx directive that documents a module's public names, each object once.

``.. public-api:: voxelio.codecs`` writes the module's docstring and then
every public name of the module:

- the names this module is the *home* of get their full autodoc entry
  (classes with their members, functions, documented data);
- the names it re-exports from another home are listed in a table that
  links to the entry there.

A module's public names are its ``__all__``; without one, the classes and
functions defined in it (not starting with ``_``) and the data documented
with a ``#:`` comment. An object's home is the first module of the
``public_api_modules`` setting (conf.py) that exports it, so an object
importable from several places (``voxelio.SpatialImage``,
``voxelio.plugin.SpatialImage``, ``voxelio.image.SpatialImage``) is
documented once, under the name users are meant to import, and never
twice (which Sphinx reports as a duplicate, an error in the -W build).

Options: ``:names: a b c`` documents only these names (for a module whose
other public-looking functions are internal).
"""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Iterable

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.ext.autodoc.mock import mock
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

#: longer values are not shown next to a constant's name
_MAX_VALUE_REPR = 60


def public_names(module: types.ModuleType) -> list[str]:
    """The names a module offers: ``__all__``, or what it defines and documents."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return list(declared)
    names = [name for name, obj in vars(module).items()
             if not name.startswith("_") and _is_code(obj)
             and getattr(obj, "__module__", None) == module.__name__]
    names += [name for name in _attribute_docs(module.__name__)
              if not name.startswith("_") and name not in names]
    return names


def _is_code(obj: object) -> bool:
    # dict[str, X] passes isclass, but it is a type alias: data
    return ((inspect.isclass(obj) and not isinstance(obj, types.GenericAlias))
            or inspect.isfunction(obj))


def _key(name: str, obj: object) -> object:
    # classes and functions are themselves; a constant (an int, a string) may
    # equal an unrelated constant, so it is only the same when the name agrees
    return id(obj) if _is_code(obj) else (name, id(obj))


def find_homes(module_names: Iterable[str]) -> dict[object, str]:
    """Map each public object to the dotted name it is documented under."""
    homes: dict[object, str] = {}
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for name in public_names(module):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                continue
            homes.setdefault(_key(name, obj), f"{module_name}.{name}")
    return homes


def _attribute_docs(module_name: str) -> set[str]:
    try:
        found = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except Exception:  # no source (a compiled module): nothing documented
        return set()
    return {name for (scope, name) in found if scope == ""}


def _entry(full_name: str, obj: object, documented: set[str]) -> list[str]:
    if _is_code(obj):
        if inspect.isfunction(obj):
            return [f".. autofunction:: {full_name}", ""]
        kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        return [f".. {kind}:: {full_name}", "   :members:", ""]
    short = len(repr(obj)) <= _MAX_VALUE_REPR
    if full_name.rpartition(".")[2] in documented:  # a `#:` comment says what it is
        return [f".. autodata:: {full_name}", *([] if short else ["   :no-value:"]), ""]
    value_line = [f"   :value: {obj!r}"] if short else []
    # no comment of its own: autodoc would show the docstring of the value's
    # type (numpy's dtype for a dtype constant), so name and value only
    module_name, _, name = full_name.rpartition(".")
    return [f".. py:data:: {name}", f"   :module: {module_name}", *value_line, ""]


def module_lines(module_name: str, homes: dict[object, str],
                 only: list[str] | None = None) -> list[str]:
    """reStructuredText documenting one module (see the module docstring)."""
    module = importlib.import_module(module_name)
    documented = _attribute_docs(module_name)
    lines = [f".. automodule:: {module_name}", "   :no-members:", ""]
    linked, submodules = [], []
    for name in only if only is not None else public_names(module):
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            submodules.append(obj.__name__)
            continue
        home = homes.get(_key(name, obj), f"{module_name}.{name}")
        if home == f"{module_name}.{name}":
            lines += _entry(home, obj, documented)
        else:
            linked.append(home)
    if linked:
        # autosummary reads names relative to the current module, and refuses
        # the module's own prefix (voxelio.errors under voxelio): full names
        lines += [f"Also importable from ``{module_name}`` (documented where they live):", "",
                  ".. currentmodule:: None", "", ".. autosummary::", ""]
        lines += [f"   ~{home}" for home in linked] + [""]
    if submodules:
        modules = ", ".join(f":mod:`{name}`" for name in submodules)
        lines += [f"Modules available as attributes: {modules}.", ""]
    return lines


class PublicApi(SphinxDirective):
    """``.. public-api:: module`` (see the module docstring)."""

    required_arguments = 1
    option_spec = {"names": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        homes = self.env.app.public_api_homes
        only = self.options["names"].split() if "names" in self.options else None
        source, _line = self.get_source_info()
        with mock(self.config.autodoc_mock_imports):
            lines = module_lines(self.arguments[0], homes, only)
        content = StringList(lines, source=source)
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


def _find_homes(app: Sphinx) -> None:
    # the libraries autodoc stands in for (autodoc_mock_imports) are missing
    # here too: the same stand-ins let the modules that need them import
    with mock(app.config.autodoc_mock_imports):
        app.public_api_homes = find_homes(app.config.public_api_modules)


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directive and the ``public_api_modules`` setting."""
    app.add_config_value("public_api_modules", [], "env")
    app.add_directive("public-api", PublicApi)
    app.connect("builder-inited", _find_homes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
