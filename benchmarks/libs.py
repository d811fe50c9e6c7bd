"""The two libraries under comparison, behind one small interface.

voxelio formats come from whatever plugins are installed: a format is looked
up by file suffix in ``voxelio.formats()``, never by plugin name, so the
harness runs (and reports "not installed") before a plugin lands.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

#: File suffix -> (NiBabel class name, what to install when voxelio lacks it).
KINDS: dict[str, tuple[str, str]] = {
    ".nii": ("Nifti1Image", "voxelio-nifti1"),
    ".nii.gz": ("Nifti1Image", "voxelio-nifti1"),
    ".mgz": ("MGHImage", "voxelio-mgh"),
}


class NotInstalledError(Exception):
    """voxelio has no usable format for a suffix (plugin missing or broken)."""


@dataclass(frozen=True)
class VoxelioFormat:
    """An installed voxelio format able to read and write one suffix."""

    name: str
    distribution: str | None
    version: str | None
    image_class: type


def suffix_of(path: str) -> str:
    """The benchmark kind of a path ('.nii', '.nii.gz' or '.mgz')."""
    for suffix in sorted(KINDS, key=len, reverse=True):
        if path.endswith(suffix):
            return suffix
    raise ValueError(f"no benchmark kind for {path!r}")


def voxelio_format(suffix: str) -> VoxelioFormat:
    """The installed voxelio format for ``suffix``; raises NotInstalledError."""
    import voxelio

    for info in voxelio.formats():
        if suffix in info.extensions and info.ok and info.can_read and info.can_write:
            module, _, attr = info.image_class.partition(":")
            try:
                klass = getattr(importlib.import_module(module), attr)
            except Exception as exc:  # a plugin mid-development or broken
                raise NotInstalledError(
                    f"broken ({info.distribution}: {type(exc).__name__}: {exc})") from exc
            return VoxelioFormat(info.name, info.distribution, info.version, klass)
    raise NotInstalledError(f"not installed ({KINDS[suffix][1]})")


def make_image(lib: str, data: np.ndarray, affine: np.ndarray, suffix: str) -> Any:
    """An in-memory image of ``lib`` ('voxelio' or 'nibabel') for ``suffix``."""
    if lib == "voxelio":
        return voxelio_format(suffix).image_class(data, affine)
    import nibabel

    return getattr(nibabel, KINDS[suffix][0])(data, affine)


def load(lib: str, path: str, **kwargs: Any) -> Any:
    """``voxelio.load`` or ``nibabel.load``."""
    if lib == "voxelio":
        import voxelio

        return voxelio.load(path, **kwargs)
    import nibabel

    return nibabel.load(path, **kwargs)


def save(lib: str, img: Any, path: str) -> None:
    """``voxelio.save`` or ``nibabel.save`` with each library's defaults."""
    if lib == "voxelio":
        import voxelio

        voxelio.save(img, path)
    else:
        import nibabel

        nibabel.save(img, path)


def versions() -> dict[str, str]:
    """Versions of the libraries and codecs that shape the numbers."""
    import importlib.metadata as md

    out: dict[str, str] = {}
    for dist in ("voxelio", "voxelio-nifti1", "voxelio-mgh", "voxelio-analyze", "nibabel",
                 "numpy", "isal", "zlib-ng", "deflate", "indexed_gzip", "zstandard"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    return out
