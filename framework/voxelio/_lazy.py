"""Module and class attributes imported on first access.

Several modules promise names whose code is heavy (numpy, the codec
machinery, reader code) while importing them must stay cheap: a plugin's
entry module imports :mod:`voxelio.plugin`, every process imports
:mod:`voxelio`. They build their module ``__getattr__`` and ``__dir__`` here
from a table of where each name lives. Classes whose rarely used methods
are long (saving, conversions) name them with :class:`LazyMember`.
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


class LazyMember:
    """A class attribute whose object lives in another module, imported on first use.

    ``to_filename = LazyMember("voxelio._image_writing:to_filename")`` in a
    class body (or ``"module:Mixin.name"``: a method as that class holds it):
    the first lookup of the name (on the class, on an instance, or through
    ``super()``) imports the module, puts the object in the class's namespace
    in place of this placeholder and returns it bound as a class attribute
    is: a function becomes a method, a ``classmethod`` binds to the class
    looked up. From then on the class holds the object itself
    (``Cls.to_filename`` is ``voxelio._image_writing.to_filename``), so code
    a process never runs (saves, conversions) is never unmarshalled.

    The function is written as a plain function of ``self`` (or of ``cls``,
    wrapped in ``classmethod`` there); it cannot use the zero-argument
    ``super()``, which needs the class body around it.
    """

    __slots__ = ("name", "owner", "ref")

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name

    def resolve(self) -> Any:
        """The object named by ``ref``, now in the owner class's namespace."""
        module, _, attr = self.ref.partition(":")
        value: Any = import_module(module)
        # "module:Class.name" takes the object as that class holds it (a mixin's)
        *path, last = attr.split(".")
        for part in path:
            value = getattr(value, part)
        value = vars(value)[last] if path else getattr(value, last)
        func = getattr(value, "__func__", value)  # classmethod / staticmethod
        if getattr(func, "__qualname__", None) == attr:  # as the class body would name it
            func.__qualname__ = f"{self.owner.__qualname__}.{self.name}"
        if vars(self.owner).get(self.name) is self:
            setattr(self.owner, self.name, value)
        return value

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        value = self.resolve()
        bind = getattr(type(value), "__get__", None)
        return value if bind is None else bind(value, obj, owner)
