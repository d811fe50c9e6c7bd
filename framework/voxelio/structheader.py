"""Binary headers laid out as a C struct.

A format whose header is a fixed block of bytes declares a numpy structured
dtype (``template_dtype``), the default values of its fields (``defaults``)
and a battery of checks (``checks``); :class:`StructHeader` gives it field
access by name, byte-order detection and swapping, a byte-exact
``binaryblock`` round trip and check/fix diagnostics with human messages.

A check is a plain function ``check(header, fix) -> Report | None``. It
returns None when the header is fine; otherwise a :class:`Report` saying
what is wrong, and, when ``fix`` is true and the problem can be mended, it
mends the header in place and says how in ``fix_msg``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

import numpy as np

from ._records import Record
from .errors import HeaderDataError
from .header import Header

# imported here, not when a problem is found: a save out of file descriptors
# cannot import a module (and must still say why it failed)
from .openfiles import current_file

if TYPE_CHECKING:
    import logging

    from .codes import CodeTable

NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"

#: problem levels, as in the logging module: the larger, the worse
OK, INFO, WARNING, MODERATE, ERROR, CRITICAL = 0, 10, 20, 30, 40, 50

LOGGER_NAME = "voxelio.header"


def __getattr__(name: str) -> Any:
    # ``logger`` is made on first use: importing logging costs every load a few ms
    if name == "logger":
        import logging

        return logging.getLogger(LOGGER_NAME)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_ENDIAN_ALIASES = {
    "<": "<",
    "little": "<",
    "l": "<",
    "le": "<",
    ">": ">",
    "big": ">",
    "b": ">",
    "be": ">",
    "=": NATIVE,
    "native": NATIVE,
    "n": NATIVE,
    "i": NATIVE,
    "swapped": SWAPPED,
    "s": SWAPPED,
    "!": SWAPPED,
    "|": NATIVE,
}


def endian_code(endianness: str) -> str:
    """Normalise a byte-order name to '<' or '>'.

    Accepted: '<', 'little', 'l', 'le'; '>', 'big', 'b', 'be'; '=', '|',
    'native', 'n', 'i' (this machine's order); 'swapped', 's', '!' (the
    other order); any letter case.
    """
    try:
        return _ENDIAN_ALIASES[str(endianness).lower()]
    except KeyError:
        raise HeaderDataError(f"unknown byte order {endianness!r}") from None


class UnknownFieldError(KeyError, ValueError):
    """A header has no field of that name (a KeyError, and a ValueError as in NiBabel)."""


class ByteOrderError(HeaderDataError, ValueError):
    """A byte order the header's format does not allow."""


class Report(Record):
    """One problem a header check found.

    Attributes
    ----------
    problem_level : int
        0 (fine) to 50 (critical); 40 and above make loading fail.
    problem_msg : str
        What is wrong, in words a person can act on.
    fix_msg : str
        How it was fixed, or '' when it was not (or cannot be).
    """

    _fields = ("problem_level", "problem_msg", "fix_msg")

    def __init__(self, problem_level: int = OK, problem_msg: str = "", fix_msg: str = "") -> None:
        self.problem_level = problem_level
        self.problem_msg = problem_msg
        self.fix_msg = fix_msg

    @property
    def message(self) -> str:
        """The problem and its fix as one sentence."""
        if not self.problem_msg:
            return ""
        return f"{self.problem_msg}; {self.fix_msg}" if self.fix_msg else self.problem_msg

    def __str__(self) -> str:
        return f"level {self.problem_level}: {self.message}"


Check = Callable[["StructHeader", bool], "Report | None"]


class StructHeader(Header):
    """Base class of headers stored as one fixed-size binary block.

    Subclasses set ``template_dtype`` (the field layout; its byte order does
    not matter), ``defaults`` (field name -> default value) and ``checks``,
    and implement the template protocol (``get_data_dtype`` and friends)
    in terms of their fields.

    Parameters
    ----------
    binaryblock : bytes-like, optional
        At least ``template_dtype.itemsize`` bytes holding a header. None
        makes a default header.
    endianness : str, optional
        Byte order of a new header, or the byte order to read
        ``binaryblock`` with (guessed with :meth:`guessed_endian` if None).
    check : bool, optional
        Run the checks (fixing what they can) on a header read from bytes.
    """

    template_dtype: ClassVar[np.dtype] = np.dtype([])
    defaults: ClassVar[Mapping[str, Any]] = {}
    checks: ClassVar[tuple[Check, ...]] = ()
    #: set when the format allows only one byte order ('<' or '>')
    fixed_endianness: ClassVar[str | None] = None
    #: extra names for bytes of the block, read as another type:
    #: name -> (byte offset, dtype code without byte order, shape); e.g. a
    #: later convention reusing an unused float as a scale factor. They are
    #: accessed like fields, in the header's byte order, and keep their
    #: numeric value through :meth:`as_byteswapped`.
    field_aliases: ClassVar[Mapping[str, tuple[int, str, tuple[int, ...]]]] = {}
    #: fields holding a code of a table (field name -> CodeTable): their label
    #: is given by :meth:`get_value_label` and shown by ``str(header)``
    coded_fields: ClassVar[Mapping[str, CodeTable]] = {}

    def __init__(
        self,
        binaryblock: bytes | bytearray | memoryview | None = None,
        endianness: str | None = None,
        check: bool = True,
    ) -> None:
        self.load_reports: list[Report] = []
        if endianness is not None:
            endianness = endian_code(endianness)
            self._check_allowed_endianness(endianness)
        if binaryblock is None:
            self._structarr = self.default_structarr(endianness)
            return
        size = self.template_dtype.itemsize
        block = bytes(binaryblock)
        if len(block) < size:
            raise HeaderDataError(
                f"{type(self).__name__} needs {size} bytes, got only {len(block)}: "
                "the header is truncated"
            )
        if len(block) > size:
            raise HeaderDataError(
                f"{type(self).__name__} is {size} bytes, got {len(block)}: pass the "
                "header's bytes only (from_fileobj reads a header from a file)"
            )
        if endianness is None:
            endianness = self.guessed_endian(block)
        # a bytearray of its own makes the array writable without numpy copying a
        # structured array (which it does field by field: 100 times slower)
        self._structarr = np.frombuffer(
            bytearray(block), dtype=self._template_in(endianness)
        ).reshape(())
        if check:
            self.load_reports = self.check_fix()

    # -- construction ---------------------------------------------------------
    @classmethod
    def _template_in(cls, order: str) -> np.dtype:
        """``template_dtype`` in byte order ``order``, made once per class.

        Every header read asks, and ordering a structured dtype of many fields
        costs more than reading the header. Kept on the class itself (not
        inherited, and renewed if ``template_dtype`` is replaced).
        """
        known = cls.__dict__.get("_templates_by_order")
        if known is None or known[0] is not cls.template_dtype:
            known = (cls.template_dtype, {})
            cls._templates_by_order = known
        ordered = known[1].get(order)
        if ordered is None:
            ordered = known[1][order] = cls.template_dtype.newbyteorder(order)
        return ordered

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        """A 0-d structured array holding this format's default values."""
        order = endian_code(endianness or cls.fixed_endianness or NATIVE)
        arr = np.zeros((), dtype=cls._template_in(order))
        for name, value in cls.defaults.items():
            arr[name] = value
        return arr

    @classmethod
    def guessed_endian(cls, binaryblock: bytes) -> str:
        """Byte order of a header block; formats with a marker field override this."""
        return cls.fixed_endianness or NATIVE

    @classmethod
    def from_fileobj(cls, fileobj: BinaryIO, endianness: str | None = None, check: bool = True):
        """Read a header from the current position of ``fileobj``."""
        block = fileobj.read(cls.template_dtype.itemsize)
        return cls(block, endianness, check)

    @classmethod
    def from_header(cls, header: Any = None, check: bool = True):
        """Make a header of this class from another header (or None).

        A header of the same class is copied; otherwise a default header gets
        the other header's dtype, shape and zooms, where this format can
        store them (a dtype it cannot store is left at the default).
        ``check`` runs :meth:`check_fix` on a copied header.
        """
        if header is None:
            return cls()
        if type(header) is cls:
            obj = header.copy()
            if check:
                obj.check_fix()
            return obj
        obj = cls()
        # fields of the same name in the other header's Analyze-like mapping carry
        # over (NiBabel headers offer one); the values from methods then win
        mapping = getattr(header, "as_analyze_map", None)
        for name, value in (mapping() if mapping is not None else {}).items():
            if name in obj.template_dtype.names:
                with contextlib.suppress(HeaderDataError, ValueError, TypeError):
                    obj[name] = value
        with contextlib.suppress(HeaderDataError):
            obj.set_data_dtype(header.get_data_dtype())
        obj.set_data_shape(header.get_data_shape())
        obj.set_zooms(header.get_zooms())
        return obj

    def copy(self):
        """Return an independent copy of this header."""
        obj = type(self)(self.binaryblock, self.endianness, check=False)
        obj.load_reports = list(self.load_reports)
        return obj

    def _check_allowed_endianness(self, endianness: str) -> None:
        fixed = self.fixed_endianness
        if fixed is not None and endianness != fixed:
            name = "big" if fixed == ">" else "little"
            raise ByteOrderError(f"{type(self).__name__} is always {name}-endian")

    # -- the binary block -------------------------------------------------------
    @property
    def binaryblock(self) -> bytes:
        """The header as the bytes stored on disk."""
        return self._structarr.tobytes()

    @property
    def structarr(self) -> np.ndarray:
        """A read-only view of the underlying 0-d structured array."""
        view = self._structarr.view()
        view.flags.writeable = False
        return view

    @property
    def endianness(self) -> str:
        """Byte order of the header on disk: '<' or '>'."""
        for field_dtype, *_ in self._structarr.dtype.fields.values():
            order = field_dtype.base.byteorder
            if order in "<>":
                return order
            if order == "=":
                return NATIVE
        return NATIVE

    def as_byteswapped(self, endianness: str | None = None):
        """Copy of this header in the given byte order (default: the other one)."""
        target = SWAPPED if endianness is None else endian_code(endianness)
        if endianness is None and self.endianness == SWAPPED:
            target = NATIVE
        self._check_allowed_endianness(target)
        aliases = {n: np.array(self[n]) for n in self.field_aliases if self._is_alias(n)}
        obj = self.copy()
        obj._structarr = self._structarr.astype(self._template_in(target))
        for name, value in aliases.items():  # an alias over text bytes swaps too
            obj[name] = value
        return obj

    def write_to(self, fileobj: BinaryIO) -> None:
        """Write the header block at the current position of ``fileobj``."""
        fileobj.write(self.binaryblock)

    # -- fields by name -----------------------------------------------------------
    def _is_alias(self, name: str) -> bool:
        # most headers have no aliases: one dict lookup answers for every field
        return bool(self.field_aliases) and (
            name in self.field_aliases and name not in self.template_dtype.names
        )

    def _alias_view(self, name: str) -> np.ndarray:
        offset, code, shape = self.field_aliases[name]
        dtype = np.dtype(code).newbyteorder(self.endianness)
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        raw = self._structarr.reshape(1).view(np.uint8)
        return raw[offset : offset + dtype.itemsize * count].view(dtype).reshape(shape)

    def __getitem__(self, name: str) -> np.ndarray:
        if self._is_alias(name):
            return self._alias_view(name)
        try:
            return self._structarr[name]
        except (ValueError, KeyError):
            raise UnknownFieldError(f"{type(self).__name__} has no field {name!r}") from None

    def __setitem__(self, name: str, value: Any) -> None:
        if self._is_alias(name):
            try:
                self._alias_view(name)[...] = value
            except (ValueError, TypeError) as err:
                raise HeaderDataError(f"cannot set {name!r} to {value!r}: {err}") from None
            return
        try:
            self._structarr[name] = value
        except (ValueError, KeyError) as err:
            if name not in self.template_dtype.names:
                raise UnknownFieldError(f"{type(self).__name__} has no field {name!r}") from None
            raise HeaderDataError(f"cannot set {name!r} to {value!r}: {err}") from None

    def keys(self) -> list[str]:
        """Field names, in on-disk order."""
        return list(self.template_dtype.names)

    def values(self) -> list[np.ndarray]:
        """Field values, in on-disk order."""
        return [self[name] for name in self.keys()]

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, value) pairs, in on-disk order."""
        return zip(self.keys(), self.values(), strict=False)

    def get(self, name: str, default: Any = None) -> Any:
        """The field's (or alias's) value, or ``default`` if there is no such name."""
        return self[name] if name in self else default  # noqa: SIM401 (this is get)

    def __contains__(self, name: object) -> bool:
        return name in self.template_dtype.names or name in self.field_aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.template_dtype.names)

    # -- diagnostics --------------------------------------------------------------
    def check(self, fix: bool = False) -> list[Report]:
        """Run every check; return the reports of the problems found.

        With ``fix=False`` (the default) the header is not changed.
        """
        target = self if fix else self.copy()
        reports = []
        for chk in self.checks:
            report = chk(target, fix)
            if report is not None and report.problem_level > OK:
                reports.append(report)
        return reports

    def check_fix(
        self,
        logger: logging.Logger | None = None,
        error_level: int = ERROR,
        *,
        log: logging.Logger | None = None,
    ) -> list[Report]:
        """Fix what can be fixed in place, log every problem, raise on serious ones.

        Parameters
        ----------
        logger : logging.Logger, optional
            Where the problems are logged (default: the ``voxelio.header``
            logger). ``log`` is an older name for it.
        error_level : int, optional
            Problems at this level or above raise, fixed or not (as in
            NiBabel: a fix of a problem that serious is a guess, so the
            header is not trusted without a lower ``error_level``).

        Returns
        -------
        reports : list of Report
            The problems found (fixed ones carry a ``fix_msg``).

        Raises
        ------
        HeaderDataError
            If a problem at ``error_level`` or above was found; every problem
            is logged first and the header keeps the fixes made.
        """
        log = logger if logger is not None else log
        reports = self.check(fix=True)
        serious = [r for r in reports if r.problem_level >= error_level]
        if reports and log is None:
            import logging

            log = logging.getLogger(LOGGER_NAME)
        # during voxelio.load the line names the file (the header cannot know it)
        where = current_file()
        for report in reports:
            text = f"{where}: {report.message}" if where else report.message
            log.log(report.problem_level, text,
                    extra={"voxelio_file": where, "voxelio_problem": report.message})
        if serious:
            raise HeaderDataError(
                f"invalid {type(self).__name__}: " + "; ".join(r.problem_msg for r in serious)
            )
        return reports

    @classmethod
    def diagnose_binaryblock(cls, binaryblock: bytes, endianness: str | None = None) -> str:
        """The problems the checks find in a header block, one per line ('' if none).

        The block is read without fixing anything.
        """
        hdr = cls(binaryblock, endianness, check=False)
        return "\n".join(r.problem_msg for r in hdr.check(fix=False) if r.problem_msg)

    def get_value_label(self, fieldname: str) -> str:
        """The label of the code a coded field holds (e.g. 'float32' for ``datatype``).

        A code the table does not know gives ``'<unknown code N>'``.

        Raises
        ------
        ValueError
            If ``fieldname`` is not a coded field (see ``coded_fields``).
        """
        table = self.coded_fields.get(fieldname)
        if table is None or fieldname not in self:
            raise ValueError(
                f"{fieldname!r} is not a coded field of {type(self).__name__}; coded fields: "
                + ", ".join(sorted(self.coded_fields))
            )
        code = int(self[fieldname])
        try:
            return table.label(code)
        except HeaderDataError:
            return f"<unknown code {code}>"

    # -- comparison and display --------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StructHeader):
            return NotImplemented
        if type(self) is not type(other):
            return False
        if other.endianness != self.endianness:
            other = other.as_byteswapped(self.endianness)
        return self.binaryblock == other.binaryblock

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        # one "name : value" line per field, codes shown by their label
        order = "little" if self.endianness == "<" else "big"
        lines = [f"{type(self).__name__} ({order}-endian)"]
        for name, value in self.items():
            shown = self.get_value_label(name) if name in self.coded_fields else _show(value)
            lines.append(f"{name:<16}: {shown}")
        return "\n".join(lines)


def _show(value: np.ndarray) -> str:
    if value.dtype.kind == "S":
        return repr(value.item())
    return str(value)
