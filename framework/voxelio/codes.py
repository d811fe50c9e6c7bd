"""Lookup tables between a format's integer codes, labels and values.

Formats store enumerations (data type codes, orientation codes, units...)
as integers. :class:`CodeTable` maps each code to its label and an optional
value (a numpy dtype, a unit name...) and back, with clear errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ._records import FrozenRecord
from .errors import HeaderDataError


class UnknownCodeError(HeaderDataError, KeyError):
    """A code or label that a table does not have (also a KeyError, as a lookup)."""

    def __str__(self) -> str:
        # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class Code(FrozenRecord):
    """One entry of a :class:`CodeTable`.

    Parameters
    ----------
    code : int
        The integer stored in files.
    label : str
        Its name.
    value : object, optional
        What it stands for (a numpy dtype, a unit name...).
    aliases : tuple of str
        Further labels that name the same entry.
    """

    _fields = ("code", "label", "value", "aliases")

    def __init__(self, code: int, label: str, value: Any = None, aliases: tuple[str, ...] = ()):
        vars(self).update(code=code, label=label, value=value, aliases=aliases)


#: what a table builds from its entries on first use
_INDEXES = frozenset({"_entries", "_by_code", "_codes", "_by_label"})


class CodeTable:
    """Bidirectional table of ``Code`` entries.

    Parameters
    ----------
    name : str
        What the codes mean, used in error messages ("data type").
    entries : iterable of Code
        The entries; codes and labels must be unique. They are read, and
        indexed, when the table is first used: a format declares several
        tables and a load consults one or two, so a plugin may pass a
        generator that makes the entries then.
    """

    def __init__(self, name: str, entries: Iterable[Code]) -> None:
        self.name = name
        self._given = entries

    def __getattr__(self, attr: str) -> Any:
        # only while the indexes are not built: they are then plain attributes
        if attr in _INDEXES and "_given" in self.__dict__:
            self._index()
            return self.__dict__[attr]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    def __getstate__(self) -> dict[str, Any]:
        # copies and pickles hold the entries (a generator cannot be copied)
        if "_given" in self.__dict__:
            self._index()
        return self.__dict__

    def _index(self) -> None:
        self._entries = tuple(self.__dict__["_given"])
        del self.__dict__["_given"]
        self._by_code = {e.code: e for e in self._entries}
        # asked for by header checks on every load
        self._codes = tuple(e.code for e in self._entries)
        self._by_label: dict[str, Code] = {}
        for entry in self._entries:
            for label in (entry.label, *entry.aliases):
                self._by_label[label.lower()] = entry

    def __iter__(self) -> Iterator[Code]:
        return iter(self._entries)

    def __contains__(self, key: object) -> bool:
        try:
            self.lookup(key)
        except (HeaderDataError, TypeError):
            return False
        return True

    def codes(self) -> tuple[int, ...]:
        """All codes, in table order."""
        return self._codes

    def lookup(self, key: Any) -> Code:
        """Entry for an integer code or a label (case-insensitive)."""
        if isinstance(key, str):
            entry = self._by_label.get(key.lower())
        else:
            try:
                entry = self._by_code.get(int(key))
            except (TypeError, ValueError):
                entry = None
        if entry is None:
            raise UnknownCodeError(f"{self.name} {key!r} is not recognised")
        return entry

    def code(self, key: Any) -> int:
        """Integer code for a code or label."""
        return self.lookup(key).code

    def label(self, key: Any) -> str:
        """Label for a code or label."""
        return self.lookup(key).label


class DtypeTable(CodeTable):
    """A :class:`CodeTable` whose values are numpy dtypes (byte order ignored).

    An entry whose value is None is a code the format defines but this
    implementation cannot hold in numpy; looking up its dtype raises.
    """

    @classmethod
    def from_rows(
        cls,
        name: str,
        rows: Iterable[tuple[int, str, str | None, tuple[str, ...]]],
        values: Mapping[str, Any] | None = None,
    ) -> DtypeTable:
        """A table from plain rows ``(code, label, dtype name or None, aliases)``.

        A plugin states its data type codes once, as plain data in a module
        without numpy that its entry module reads too (for the spec's
        ``dtypes``); its header builds the table from those rows.

        Parameters
        ----------
        name : str
            What the codes mean, for error messages ("NIfTI-1 data type").
        rows : iterable of tuple
            ``(code, label, dtype, aliases)``; ``dtype`` is a dtype name as
            a :class:`~voxelio.registry.FormatSpec` writes it (``'int16'``,
            :data:`~voxelio.registry.spec.RGB_DTYPE`), or None for a code
            numpy cannot hold.
        values : mapping, optional
            Dtype name -> numpy type (or None) for names whose meaning
            depends on the platform, such as 128-bit floats.
        """
        values = values or {}

        def entries() -> Iterator[Code]:  # made on the table's first use
            from .registry.spec import parse_dtype

            for code, label, dtype_name, aliases in rows:
                if dtype_name is None:
                    value = None
                elif dtype_name in values:
                    value = values[dtype_name]
                else:
                    value = parse_dtype(dtype_name)
                yield Code(code, label, value, tuple(aliases))

        return cls(name, entries())

    def dtype(self, key: Any) -> np.dtype:
        """Numpy dtype (native byte order) for a code or label."""
        entry = self.lookup(key)
        if entry.value is None:
            raise HeaderDataError(
                f"{self.name} {entry.label} (code {entry.code}) is not supported"
            )
        return np.dtype(entry.value)

    def code_for_dtype(self, dtype: Any) -> int:
        """Code for a numpy dtype; raises HeaderDataError naming the supported dtypes."""
        try:
            wanted = np.dtype(dtype)
        except TypeError as err:
            raise HeaderDataError(f"{dtype!r} is not a numpy data type: {err}") from None
        wanted = wanted.newbyteorder("=") if wanted.byteorder in "<>" else wanted
        for entry in self._entries:
            if entry.value is not None and _same_dtype(np.dtype(entry.value), wanted):
                return entry.code
        raise HeaderDataError(
            f"data dtype {wanted} is not supported by this format; supported: "
            + ", ".join(str(d) for d in self.supported_dtypes())
        )

    def supported_dtypes(self) -> tuple[np.dtype, ...]:
        """The numpy dtypes this table can hold."""
        return tuple(np.dtype(e.value) for e in self._entries if e.value is not None)


def _same_dtype(a: np.dtype, b: np.dtype) -> bool:
    if a.fields or b.fields:
        return a.descr == b.descr if a.fields and b.fields else False
    return a.newbyteorder("=") == b.newbyteorder("=")
