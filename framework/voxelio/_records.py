"""Record classes that cost nothing to create at import time.

``@dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__``...
and compiles it when the class statement runs: 0.2-0.9 ms per class, paid by
every process that imports the module, before it does anything. The records
a load meets (format specs, sniff candidates, code tables, header reports,
index plans) derive from :class:`Record` or :class:`FrozenRecord` instead:
their ``__init__`` is written out in the source (compiled once into the
``.pyc``), and equality, hashing, ``repr`` and immutability come from the
field names the class lists in ``_fields``.

They still answer to :mod:`dataclasses` as the dataclasses they replaced did
(``fields``, ``replace``, ``asdict``, ``astuple``, ``is_dataclass``): the
dataclass description is made the first time something asks for it, from
the parameters of the class's ``__init__`` (names and defaults).

Named tuples cost the same way (``collections.namedtuple`` compiles
``__new__``); :class:`TupleRecord` is a tuple subclass with the named-tuple
protocol (``_fields``, ``_field_defaults``, ``_make``, ``_replace``,
``_asdict``, field properties, pickling) whose ``__new__`` is written out.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, ClassVar

_descriptions: dict[type, Any] = {}


def _dataclass_twin(cls: type) -> Any:
    """A dataclass with the fields, defaults and flags of record class ``cls``."""
    twin = _descriptions.get(cls)
    if twin is None:
        import dataclasses
        import inspect

        compared = cls._compared_fields()
        shown = cls._shown_fields()
        specs = []
        for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            options: dict[str, Any] = {
                "compare": param.name in compared,
                "repr": param.name in shown,
            }
            if param.default is not param.empty:
                options["default"] = param.default
            specs.append((param.name, Any, dataclasses.field(**options)))
        twin = dataclasses.make_dataclass(cls.__name__, specs, frozen=cls._frozen)
        _descriptions[cls] = twin
    return twin


class _DataclassView:
    """A class attribute that :mod:`dataclasses` reads; made on first access."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: Any, owner: type) -> Any:
        return getattr(_dataclass_twin(owner), self.attr)


class Record:
    """Base of mutable records: ``__eq__`` and ``repr`` from ``_fields``.

    Subclasses list their fields in ``_fields`` (the order of their
    ``__init__`` parameters) and may narrow ``_compare`` (fields equality
    uses) and ``_repr`` (fields ``repr`` shows); both default to all fields.
    As with a dataclass that is not frozen, instances are unhashable.
    """

    _fields: ClassVar[tuple[str, ...]] = ()
    _compare: ClassVar[tuple[str, ...] | None] = None
    _repr: ClassVar[tuple[str, ...] | None] = None
    _frozen: ClassVar[bool] = False

    __dataclass_fields__ = _DataclassView("__dataclass_fields__")
    __dataclass_params__ = _DataclassView("__dataclass_params__")
    __hash__: Any = None

    @classmethod
    def _compared_fields(cls) -> tuple[str, ...]:
        return cls._fields if cls._compare is None else cls._compare

    @classmethod
    def _shown_fields(cls) -> tuple[str, ...]:
        return cls._fields if cls._repr is None else cls._repr

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self._compared_fields())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown_fields())
        return f"{type(self).__qualname__}({shown})"


class FrozenRecord(Record):
    """Base of immutable, hashable records (as ``@dataclass(frozen=True)``).

    ``__init__`` stores its fields with ``vars(self).update(...)`` (or
    ``object.__setattr__``); any later assignment or deletion raises
    :class:`dataclasses.FrozenInstanceError`, as a frozen dataclass does.
    """

    _frozen: ClassVar[bool] = True

    def __hash__(self) -> int:
        return hash(self._key())

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen_error(self, name)

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(self, name)


def _frozen_error(record: Any, name: str) -> Exception:
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(f"cannot assign to field {name!r}")


def field_at(index: int, doc: str = "") -> Any:
    """The property of a :class:`TupleRecord` field: item ``index`` of the tuple."""
    return property(itemgetter(index), doc=doc or f"Field {index}.")


class TupleRecord(tuple):
    """Base of named tuples written out in the source.

    Subclasses list ``_fields``, write ``__new__`` (returning
    ``tuple.__new__(cls, (...))``), give each field a property with
    :func:`field_at`, and list defaults in ``_field_defaults``.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _field_defaults: ClassVar[dict[str, Any]] = {}

    @classmethod
    def _make(cls, iterable: Any) -> Any:
        values = tuple.__new__(cls, iterable)
        if len(values) != len(cls._fields):
            raise TypeError(f"expected {len(cls._fields)} arguments, got {len(values)}")
        return values

    def _replace(self, **changes: Any) -> Any:
        pairs = zip(self._fields, self, strict=True)
        values = self._make(changes.pop(name, value) for name, value in pairs)
        if changes:
            raise ValueError(f"got unexpected field names: {list(changes)!r}")
        return values

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def __getnewargs__(self) -> tuple:
        return tuple(self)

    def __repr__(self) -> str:
        pairs = zip(self._fields, self, strict=True)
        shown = ", ".join(f"{name}={value!r}" for name, value in pairs)
        return f"{type(self).__name__}({shown})"
