"""voxelio: read and write neuro-imaging volumes through one call.

>>> import voxelio as vx
>>> img = vx.load("sub-01_T1w.nii.gz")          # doctest: +SKIP
>>> img.shape, img.affine                        # doctest: +SKIP

The framework knows no file format itself: formats come from plugins,
discovered on first use (never at import time, which stays cheap). Names
such as ``voxelio.Nifti1Image`` resolve lazily from installed plugins.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._lazy import lazy_attributes
from .errors import (
    ConversionWarning,
    HeaderDataError,
    HeaderTypeError,
    ImageDataError,
    ImageFileError,
    VoxelioError,
    WriterError,
)

__version__ = "0.1.0"

# Public names and the modules that define them; imported on first access so
# that `import voxelio` costs almost nothing.
_LAZY = {
    "SpatialImage": "voxelio.image",
    "Header": "voxelio.header",
    "StructHeader": "voxelio.structheader",
    "ArrayProxy": "voxelio.proxy",
    "is_proxy": "voxelio.proxy",
    "FileHolder": "voxelio.filemaps",
    "supported_np_types": "voxelio.dtypes",
    "load": "voxelio.api",
    "save": "voxelio.api",
    "sniff": "voxelio.api",
    "formats": "voxelio.api",
    "register_format": "voxelio.api",
    "unregister_format": "voxelio.api",
    "refresh_plugins": "voxelio.api",
    "FormatSpec": "voxelio.registry.spec",
    "MagicRule": "voxelio.registry.spec",
    "hookimpl": "voxelio.hookspecs",
    "FormatInfo": "voxelio.registry.info",
    "SniffResult": "voxelio.registry.spec",
    "InvalidSpecError": "voxelio.registry.spec",
    "PluginWarning": "voxelio.registry.discovery",
    "aff2axcodes": "voxelio.orientation",
    "apply_orientation": "voxelio.orientation",
    "as_closest_canonical": "voxelio.orientation",
    "axcodes2ornt": "voxelio.orientation",
    "inv_ornt_aff": "voxelio.orientation",
    "inverse_ornt": "voxelio.orientation",
    "io_orientation": "voxelio.orientation",
    "ornt2axcodes": "voxelio.orientation",
    "ornt_transform": "voxelio.orientation",
    "OrientationError": "voxelio.orientation",
    "from_nibabel": "voxelio.integrations.nibabel",
    "to_dask": "voxelio.integrations.dask",
    "stack": "voxelio.integrations.dask",
}

# Submodules reachable as attributes (``voxelio.orientation.io_orientation``)
# without an explicit import; imported on first access too.
_SUBMODULES = ("orientation",)

__all__ = [
    "ConversionWarning",
    "HeaderDataError",
    "HeaderTypeError",
    "ImageDataError",
    "ImageFileError",
    "VoxelioError",
    "WriterError",
    *_LAZY,
]


def _submodule_or_export(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"voxelio.{name}")
    if not name[:1].isupper():
        # submodule imports (`from voxelio import codecs`) ask here first: only
        # class-like names are looked up in the plugin registry
        raise AttributeError(f"module 'voxelio' has no attribute {name!r}")
    try:
        from .registry.exports import resolve_export
    except ImportError:
        raise AttributeError(f"module 'voxelio' has no attribute {name!r}") from None
    return resolve_export(name)


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, _submodule_or_export)
