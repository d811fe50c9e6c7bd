"""Hints about format plugins that may not be installed.

The framework knows no format, but when nothing installed reads ``x.mgz`` a
person should learn which distribution would. This table is the only place
in the framework that names formats; it is advice for error messages and
for missing top-level attributes, never used to choose a reader.

Add a row for any published plugin worth pointing people to.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codecs.detect import strip_compression


@dataclass(frozen=True)
class KnownFormat:
    """A format some distribution provides.

    Attributes
    ----------
    name : str
        The format name its plugin registers.
    distribution : str
        What to ``pip install``.
    suffixes : tuple of str
        Lower-case file suffixes (without compression suffixes).
    exports : tuple of str
        Top-level ``voxelio`` attributes the plugin provides.
    """

    name: str
    distribution: str
    suffixes: tuple[str, ...]
    exports: tuple[str, ...] = ()


KNOWN_FORMATS: tuple[KnownFormat, ...] = (
    KnownFormat("analyze", "voxelio-analyze", (".img", ".hdr"), ("AnalyzeImage", "AnalyzeHeader")),
    KnownFormat("nifti1", "voxelio-nifti1", (".nii",), ("Nifti1Image", "Nifti1Header")),
    KnownFormat("nifti1-pair", "voxelio-nifti1", (".img", ".hdr"), ("Nifti1Pair",)),
    KnownFormat("nifti2", "voxelio-nifti2", (".nii",), ("Nifti2Image", "Nifti2Header")),
    KnownFormat("nifti2-pair", "voxelio-nifti2", (".img", ".hdr"), ("Nifti2Pair",)),
    KnownFormat("mgh", "voxelio-mgh", (".mgh", ".mgz"), ("MGHImage", "MGHHeader")),
)

def known_for_filename(filename: str) -> tuple[KnownFormat, ...]:
    """Known formats whose suffixes ``filename`` ends with (any case, compressed or not)."""
    lower = filename.lower()
    plain = strip_compression(filename).lower()
    return tuple(
        k for k in KNOWN_FORMATS if any(lower.endswith(s) or plain.endswith(s) for s in k.suffixes)
    )


def known_for_attribute(attr: str) -> KnownFormat | None:
    """The known format that exports ``attr``, if any."""
    for known in KNOWN_FORMATS:
        if attr in known.exports:
            return known
    return None


def known_by_name(name: str) -> KnownFormat | None:
    """The known format called ``name``, if any."""
    for known in KNOWN_FORMATS:
        if known.name == name:
            return known
    return None


@dataclass(frozen=True)
class KnownSignature:
    """How the first bytes of a file of a known format look.

    Attributes
    ----------
    label : str
        The format as people call it (``'MINC-2'``).
    offset : int
        Where ``magic`` starts.
    magic : tuple of bytes
        Any one of these at ``offset`` identifies the format.
    format_name : str or None
        The voxelio format name a plugin would register, if one exists.
    distribution : str or None
        What to ``pip install`` for it, if anything.
    """

    label: str
    offset: int
    magic: tuple[bytes, ...]
    format_name: str | None = None
    distribution: str | None = None


#: checked in order: the first match names the file's likely format
KNOWN_SIGNATURES: tuple[KnownSignature, ...] = (
    KnownSignature("CIFTI-2 (a NIfTI-2 file with a CIFTI extension)", 344,
                   (b"n+2\x00\r\n\x1a\n",), "cifti2"),
    KnownSignature("NIfTI-2", 344, (b"n+2\x00", b"ni2\x00"), "nifti2", "voxelio-nifti2"),
    KnownSignature("MINC-2 (HDF5)", 0, (b"\x89HDF\r\n\x1a\n",), "minc2"),
    KnownSignature("MINC-1 (NetCDF)", 0, (b"CDF\x01", b"CDF\x02"), "minc1"),
    KnownSignature("NRRD", 0, (b"NRRD000",), "nrrd"),
    KnownSignature("DICOM", 128, (b"DICM",), "dicom"),
)

#: NIfTI-2 files whose intent code (int32 at byte 504) is 3000-3099 are CIFTI-2
_CIFTI_INTENTS = range(3000, 3100)


def known_by_content(prefix: bytes) -> KnownSignature | None:
    """The known format whose signature the (decompressed) ``prefix`` carries, if any."""
    for sig in KNOWN_SIGNATURES:
        if sig.format_name == "cifti2":
            if prefix[344:348] in (b"n+2\x00", b"ni2\x00") and len(prefix) >= 508:
                for order in ("little", "big"):
                    if int.from_bytes(prefix[504:508], order, signed=True) in _CIFTI_INTENTS:
                        return sig
            continue
        if any(prefix[sig.offset:sig.offset + len(m)] == m for m in sig.magic):
            return sig
    return None
