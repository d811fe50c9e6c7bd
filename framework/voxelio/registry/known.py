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
