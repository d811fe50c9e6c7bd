"""``FormatSpec``: what a format plugin declares about its format, as data.

A plugin's ``voxelio_formats()`` hook returns one :class:`FormatSpec` per
format. The spec is everything the registry needs to *choose* a format (file
name suffixes, magic bytes, an optional pure sniff function) and to *find*
its code later (the image class as a lazy ``"module:attr"`` reference), so
discovery never imports reader code or numpy.

Construction validates the spec and raises :class:`InvalidSpecError` listing
every problem at once. Checks that need numpy (dtype names) run later, in
:func:`validate_spec`, when the registry adopts the spec.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .._lazy import lazy_attributes
from .._records import FrozenRecord, TupleRecord, field_at
from ..codecs.detect import COMPRESSED_SUFFIXES
from ..errors import VoxelioError

#: Version of the plugin contract this voxelio speaks. A spec declaring another
#: version is reported as broken instead of being half understood.
API_VERSION = 1

#: Most leading bytes a spec may ask to see; keeps sniffing cheap.
MAX_SNIFF_BYTES = 1 << 20

#: The content verdicts a sniff may give.
YES, WEAK, NO = "yes", "weak", "no"
VERDICTS = (YES, WEAK, NO)

DEFAULT_COMPRESSED_SUFFIXES = COMPRESSED_SUFFIXES

#: The colour dtypes as a spec (and a plugin's numpy-free code table) names them.
RGB_DTYPE = "[('R', 'u1'), ('G', 'u1'), ('B', 'u1')]"
RGBA_DTYPE = "[('R', 'u1'), ('G', 'u1'), ('B', 'u1'), ('A', 'u1')]"
# their fields, so that reading a colour format's code table needs no ``ast``
_STRUCTURED = {
    RGB_DTYPE: [("R", "u1"), ("G", "u1"), ("B", "u1")],
    RGBA_DTYPE: [("R", "u1"), ("G", "u1"), ("B", "u1"), ("A", "u1")],
}


class InvalidSpecError(VoxelioError, ValueError):
    """A :class:`FormatSpec` (or what should be one) is malformed.

    The message names the spec and lists every problem found.
    """


class SniffResult(TupleRecord):
    """What a sniff function says about a file's leading bytes.

    Attributes
    ----------
    verdict : {'yes', 'weak', 'no'}
        'yes': the bytes are this format; 'weak': plausible, not proven;
        'no': certainly not this format (the format is excluded).
    evidence : str
        A short human-readable reason, shown by ``voxelio sniff`` and in
        error messages.
    strength : int
        How specific the evidence is, in the unit of magic bytes matched;
        ranks candidates with the same verdict.
    """

    __slots__ = ()
    _fields = ("verdict", "evidence", "strength")
    _field_defaults = {"evidence": "", "strength": 0}
    verdict = field_at(0, "'yes', 'weak' or 'no'.")
    evidence = field_at(1, "Why, in words.")
    strength = field_at(2, "How specific the evidence is (bytes of magic).")

    def __new__(cls, verdict: str, evidence: str = "", strength: int = 0) -> SniffResult:
        return tuple.__new__(cls, (verdict, evidence, strength))


class MagicRule(FrozenRecord):
    """Bytes expected at an offset of the (decompressed) file.

    Parameters
    ----------
    offset : int
        Byte offset from the start of the file that holds the magic.
    data : bytes
        The expected bytes; ``len(data)`` is the rule's strength.
    """

    _fields = ("offset", "data")

    def __init__(self, offset: int, data: bytes) -> None:
        vars(self).update(offset=offset, data=data)

    def matches(self, prefix: bytes) -> bool:
        """True when ``prefix`` holds ``data`` at ``offset``."""
        return prefix[self.offset : self.offset + len(self.data)] == self.data

    @property
    def end(self) -> int:
        """Number of leading bytes needed to test this rule."""
        return self.offset + len(self.data)


SniffFunction = Callable[[bytes, "str | None"], "SniffResult | str | None"]


class FormatSpec(FrozenRecord):
    """The declaration of one file format, returned by ``voxelio_formats()``.

    Parameters
    ----------
    name : str
        Unique lower-case format name (``'nifti1'``); what ``format=`` takes.
    image_class : str or type
        ``"module:attr"`` of the image class, imported only when the format is
        chosen. Runtime registrations may pass the class itself.
    extensions : tuple of str
        Suffixes of the format's files, with the leading dot (``('.nii',)``;
        a pair lists both, ``('.img', '.hdr')``). Matching ignores case.
    api_version : int
        The plugin contract version the spec was written for
        (:data:`API_VERSION`).
    files_types : tuple of (str, str or None)
        The image class's file types; defaults to one ``'image'`` file with
        the first extension.
    compressed_suffixes : tuple of str
        Suffixes that may follow an extension (``'.nii.gz'``); ``()`` if the
        format cannot be compressed.
    aliases : tuple of str
        Further complete suffixes naming the format (``'.mgz'``).
    magic : tuple of MagicRule or (offset, bytes)
        Content rules; any one matching gives the verdict 'yes'.
    sniff : callable, optional
        A pure function ``sniff(prefix, filespec)`` for logic beyond magic,
        returning a :class:`SniffResult`, a verdict string, or None to
        abstain. It receives at most ``sniff_bytes`` decompressed leading
        bytes (fewer for short files) and the file name or None. It must
        not raise and must not import heavy modules.
    sniff_bytes : int
        How many leading bytes the content rules need; defaults to what the
        magic rules need. Required (> 0) when ``sniff`` is given.
    sniff_file_type : str, optional
        Which file type holds the magic; defaults to 'header' when the
        format has one, else the first file type.
    exports : mapping of str to str
        Extra top-level attributes (``{'Nifti1Header': 'pkg.header:Nifti1Header'}``);
        the image class's own name is exported automatically.
    can_read, can_write : bool
        What the image class supports.
    dtypes : tuple of str
        Numpy dtype names the format stores (``'uint8'``, ``'<f4'``, a
        structured dtype as its list literal).
    supersedes : tuple of str
        Names of formats this one refines; it ranks above them when both
        accept a file (a NIfTI-1 pair is also a valid Analyze pair).
    priority : int
        Tie-breaker after ``supersedes``; higher ranks first.
    description : str
        One line for ``voxelio formats``.
    nibabel_class : str
        ``"module:attr"`` of the NiBabel image class that holds the same
        thing (``'nibabel.nifti1:Nifti1Image'``), used by ``img.to_nibabel()``
        and ``voxelio.from_nibabel()``; empty if there is none. NiBabel is
        imported only when the bridge is used.
    sniff_trusted : bool
        The plugin vouches that ``sniff`` is pure and answers promptly for
        any prefix (no I/O, no loop whose length the bytes decide). voxelio
        then calls it on the caller's thread, timed, instead of on a worker
        thread it stops waiting for after ``VOXELIO_SNIFF_TIMEOUT`` seconds:
        a sniff that overruns the budget is still reported and its format
        marked broken, but one that never returns would hang the load.
        Saves a thread hand-off per candidate format on every load; the
        first-party plugins declare it. Default False.

    Raises
    ------
    InvalidSpecError
        Listing every problem when the declaration is malformed. Names,
        ``module:attr`` references, suffixes, file types and ``supersedes``
        entries are taken whole: white space in them (a trailing newline
        from a file or a heredoc) is such a problem, naming the field.
        White space around a ``dtypes`` entry is dropped.
    """

    _fields = (
        "name", "image_class", "extensions", "api_version", "files_types",
        "compressed_suffixes", "aliases", "magic", "sniff", "sniff_bytes",
        "sniff_file_type", "exports", "can_read", "can_write", "dtypes", "supersedes",
        "priority", "description", "nibabel_class", "sniff_trusted",
    )
    # a sniff function has no meaningful equality (two loads of a spec)
    _compare = tuple(f for f in _fields if f != "sniff")

    def __init__(
        self,
        name: str,
        image_class: Any,
        extensions: tuple[str, ...] = (),
        api_version: int = API_VERSION,
        files_types: tuple[tuple[str, str | None], ...] = (),
        compressed_suffixes: tuple[str, ...] = DEFAULT_COMPRESSED_SUFFIXES,
        aliases: tuple[str, ...] = (),
        magic: tuple[MagicRule, ...] = (),
        sniff: SniffFunction | None = None,
        sniff_bytes: int = 0,
        sniff_file_type: str | None = None,
        exports: tuple[tuple[str, str], ...] = (),
        can_read: bool = True,
        can_write: bool = True,
        dtypes: tuple[str, ...] = (),
        supersedes: tuple[str, ...] = (),
        priority: int = 0,
        description: str = "",
        nibabel_class: str = "",
        sniff_trusted: bool = False,
    ) -> None:
        vars(self).update(
            name=name, image_class=image_class, extensions=extensions,
            api_version=api_version, files_types=files_types,
            compressed_suffixes=compressed_suffixes, aliases=aliases, magic=magic,
            sniff=sniff, sniff_bytes=sniff_bytes, sniff_file_type=sniff_file_type,
            exports=exports, can_read=can_read, can_write=can_write, dtypes=dtypes,
            supersedes=supersedes, priority=priority, description=description,
            nibabel_class=nibabel_class, sniff_trusted=sniff_trusted,
        )
        from .validation import normalise, problem_message  # here: a cached spec skips it

        problems: list[str] = []
        normalise(self, problems)
        if problems:
            raise InvalidSpecError(problem_message(self.name, problems))

    # -- derived views -------------------------------------------------------
    @property
    def suffixes(self) -> tuple[str, ...]:
        """Every suffix that names this format: extensions, their compressed
        variants and aliases, lower case, longest first."""
        # worked out once per spec (its fields never change): every load asks
        found = self.__dict__.get("_suffixes")
        if found is None:
            names = {e.lower() for e in self.extensions} | {a.lower() for a in self.aliases}
            names |= {
                (e + c).lower() for e in self.extensions for c in self.compressed_suffixes
            }
            found = tuple(sorted(names, key=lambda s: (-len(s), s)))
            self.__dict__["_suffixes"] = found
        return found

    def match_suffix(self, filename: str) -> str:
        """The longest of :attr:`suffixes` that ``filename`` ends with, or ''."""
        lower = filename.lower()
        for suffix in self.suffixes:
            if lower.endswith(suffix) and len(lower) > len(suffix):
                return suffix
        return ""

    @property
    def export_map(self) -> dict[str, str | type]:
        """Top-level attribute name -> reference, image class included."""
        out: dict[str, Any] = {}
        ref = self.image_class
        attr = ref.rsplit(":", 1)[1].rsplit(".", 1)[-1] if isinstance(ref, str) else ref.__name__
        out[attr] = ref
        out.update(dict(self.exports))
        return out

    @property
    def image_class_ref(self) -> str:
        """The image class as a ``"module:attr"`` string (also for classes)."""
        ref = self.image_class
        if isinstance(ref, str):
            return ref
        return f"{ref.__module__}:{ref.__qualname__}"

    def file_map(self, filename: str) -> dict[str, Any]:
        """The file map of the files ``filename`` implies, named as this spec names them.

        Raises
        ------
        ImageFileError
            If ``filename`` does not end in one of the spec's suffixes.
        """
        from ..filemaps import filespec_to_file_map

        exts = self.extensions + self.aliases
        return filespec_to_file_map(filename, self.files_types, exts, self.compressed_suffixes)

    def load_image_class(self) -> type:
        """Import and return the image class (the only import of reader code)."""
        return resolve_ref(self.image_class)


def resolve_ref(ref: str | Any) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted) and return the object.

    Objects that are not strings are returned as they are.
    """
    if not isinstance(ref, str):
        return ref
    module_name, _, attr_path = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj


def parse_dtype(name: str) -> Any:
    """Return the numpy dtype a spec's dtype string names (imports numpy)."""
    import numpy as np

    text = name.strip()
    if text in _STRUCTURED:
        return np.dtype(_STRUCTURED[text])
    if text.startswith("["):
        import ast  # structured dtypes only: most specs never need it

        return np.dtype(ast.literal_eval(text))
    return np.dtype(text)


def spec_field_names() -> tuple[str, ...]:
    """Names of the :class:`FormatSpec` fields (for building specs from classes)."""
    return FormatSpec._fields


# checked and made elsewhere (imported on first use: a load never needs them)
_CHECKS = "voxelio.registry.validation"
__getattr__, __dir__ = lazy_attributes(
    globals(), {"validate_spec": _CHECKS, "spec_from_class": _CHECKS}
)
