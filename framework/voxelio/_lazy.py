"""Module attributes imported on first access (a module ``__getattr__``).

Several modules promise names whose code is heavy (numpy, the codec
machinery, reader code) while importing them must stay cheap: a plugin's
entry module imports :mod:`voxelio.plugin`, every process imports
:mod:`voxelio`. They build their module ``__getattr__`` and ``__dir__`` here
from a table of where each name lives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(
    namespace: dict[str, Any],
    where: Mapping[str, str],
    fallback: Callable[[str], Any] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for names imported on first access.

    Parameters
    ----------
    namespace : dict
        The module's ``globals()``; a resolved name is stored there, so later
        lookups do not come back to ``__getattr__``.
    where : mapping of str to str
        Name -> ``"module"`` (the attribute of the same name),
        ``"module:attr"``, or ``"module:"`` (the module itself).
    fallback : callable, optional
        Called with a name the table does not have; raises AttributeError
        (the default) or returns the value.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` to assign at module level.
    """
    module_name = namespace["__name__"]

    def get_attribute(name: str) -> Any:
        ref = where.get(name)
        if ref is None:
            if fallback is not None:
                return fallback(name)
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module, colon, attr = ref.partition(":")
        value = import_module(module)
        if attr or not colon:
            value = getattr(value, attr or name)
        namespace[name] = value
        return value

    def list_names() -> list[str]:
        return sorted(set(namespace) | set(where))

    return get_attribute, list_names
