"""The spatial image: an N-d array, an affine, a header, extras and files.

:class:`SpatialImage` follows the ``spatialimages`` model: ``dataobj`` (an
array or a lazy :class:`~voxelio.proxy.ArrayProxy`), a 4x4 ``affine`` from
voxel indices to world coordinates (or None), a format ``header``, an
``extra`` dict and a ``file_map`` of the files the image lives in.

Format plugins subclass it, set the class attributes (``header_class``,
``files_types``, ``valid_exts``...) and implement :meth:`from_file_map` and
:meth:`to_file_map`; everything else (file names, bytes, slicing, caching,
conversion) comes from here.
"""

from __future__ import annotations

import contextvars
import os
import warnings
from collections.abc import Mapping
from typing import Any, BinaryIO, ClassVar

import numpy as np

from . import filemaps as _filemaps
from . import imagefiles as _imagefiles
from ._lazy import LazyMember
from .codecs.detect import COMPRESSED_SUFFIXES
from .codecs.handoff import ReaderHandOff
from .errors import HeaderDataError, ImageDataError
from .filemaps import FileHolder, FileMap
from .header import Header
from .proxy import is_proxy
from .slicing import is_fancy, plan_index

#: seconds :meth:`SpatialImage.from_url` waits for the server by default (here, not
#: in imagestreams, which a load does not import)
URL_TIMEOUT = 5.0

#: the header :meth:`SpatialImage.from_file_map` just read, which the image it
#: builds takes as its own instead of a checked copy: no one else holds it, and
#: reading it ran the checks already (a per-load cost, for small files)
_READ_HEADER: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "voxelio_read_header", default=None
)


class SpatialImage:
    """An image array with its affine, header, extras and files.

    Parameters
    ----------
    dataobj : array-like
        The data: an ndarray, an array proxy, or anything with ``shape``
        that ``np.asanyarray`` turns into an array.
    affine : None or (4, 4) array-like
        Voxel-to-world transform. None means unknown; the format then
        writes its own default.
    header : header or None, optional
        Format metadata; a header of another class is converted with
        ``header_class.from_header``.
    extra : mapping, optional
        Metadata this format cannot store.
    file_map : mapping, optional
        File type -> :class:`~voxelio.filemaps.FileHolder`.
    """

    header_class: ClassVar[type[Header]] = Header
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", None),)
    valid_exts: ClassVar[tuple[str, ...]] = ()
    compressed_suffixes: ClassVar[tuple[str, ...]] = COMPRESSED_SUFFIXES
    #: extensions that imply a codec on write, e.g. {'.mgz': 'gzip'}
    compression_aliases: ClassVar[Mapping[str, str]] = {}
    rw: ClassVar[bool] = False
    makeable: ClassVar[bool] = True
    #: whether the format records a scale factor / an intercept for stored values
    can_store_slope: ClassVar[bool] = False
    can_store_intercept: ClassVar[bool] = False

    def __init__(
        self,
        dataobj: Any,
        affine: Any,
        header: Any = None,
        extra: Mapping[str, Any] | None = None,
        file_map: Mapping[str, FileHolder] | None = None,
    ) -> None:
        if not hasattr(dataobj, "shape"):
            dataobj = np.asanyarray(dataobj)
        self._dataobj = dataobj
        self._affine = _as_affine(affine)
        if header is not None and header is _READ_HEADER.get() and (
            type(header) is self.header_class
        ):
            self._header = header
        else:
            self._header = self.header_class.from_header(header)
        if header is None and hasattr(dataobj, "dtype"):
            self._set_dtype_from_data(np.dtype(dataobj.dtype))
        self._extra = dict(extra or {})
        self.file_map: FileMap = dict(file_map) if file_map is not None else self.make_file_map()
        #: name of the format that read or wrote this image (set by the registry)
        self.format_name: str | None = None
        #: what :meth:`from_image` could not carry over from another format (empty if nothing)
        self.conversion_report: tuple[str, ...] = ()
        self._data_cache: np.ndarray | None = None
        self._fdata_cache: np.ndarray | None = None
        self.update_header()

    def _set_dtype_from_data(self, dtype: np.dtype) -> None:
        try:
            self._header.set_data_dtype(dtype)
        except HeaderDataError as err:
            raise HeaderDataError(
                f"{type(self).__name__} cannot store {dtype} data ({err}); convert the array "
                "first (arr.astype(...)) or pass a header with a supported dtype"
            ) from None

    # -- properties --------------------------------------------------------------------
    @property
    def dataobj(self) -> Any:
        """The array or array proxy holding the image data."""
        return self._dataobj

    @property
    def affine(self) -> np.ndarray | None:
        """The 4x4 voxel-to-world affine, or None."""
        return self._affine

    @property
    def header(self) -> Header:
        """The format header."""
        return self._header

    @property
    def extra(self) -> dict[str, Any]:
        """Metadata the format cannot store."""
        return self._extra

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self._dataobj.shape)

    @property
    def ndim(self) -> int:
        return len(self._dataobj.shape)

    @property
    def in_memory(self) -> bool:
        """True when the data are in memory (an array image, or a filled cache)."""
        return (
            isinstance(self._dataobj, np.ndarray)
            or self._data_cache is not None
            or self._fdata_cache is not None
        )

    # -- deprecated getters ------------------------------------------------------------------
    def get_affine(self) -> np.ndarray | None:
        """Deprecated: use the ``affine`` property."""
        warnings.warn("get_affine() is deprecated; use img.affine", DeprecationWarning, 2)
        return self.affine

    def get_header(self) -> Header:
        """Deprecated: use the ``header`` property."""
        warnings.warn("get_header() is deprecated; use img.header", DeprecationWarning, 2)
        return self.header

    def get_shape(self) -> tuple[int, ...]:
        """Deprecated: use the ``shape`` property."""
        warnings.warn("get_shape() is deprecated; use img.shape", DeprecationWarning, 2)
        return self.shape

    # -- data access ---------------------------------------------------------------------------
    def get_fdata(self, caching: str = "fill", dtype: Any = np.float64) -> np.ndarray:
        """Scaled image data as floating point, cached by default.

        Parameters
        ----------
        caching : {'fill', 'unchanged'}
            'fill' keeps the result for later calls; 'unchanged' does not
            fill an empty cache (a filled one is still used).
        dtype : floating or complex dtype
            The type of the returned array.
        """
        _check_caching(caching)
        dtype = np.dtype(dtype)
        if not issubclass(dtype.type, np.inexact):
            raise ValueError(f"get_fdata needs a floating point dtype, not {dtype}")
        cache = self._fdata_cache
        if cache is not None and cache.dtype == dtype:
            return cache
        stored = getattr(self._dataobj, "dtype", None)
        if stored is not None and np.dtype(stored).fields is not None:
            raise ImageDataError(
                f"{self._dataobj.dtype} data (e.g. RGB) have no floating point form; "
                "use np.asarray(img.dataobj)"
            )
        data = np.asanyarray(self._dataobj, dtype=dtype)
        if caching == "fill":
            self._fdata_cache = data
        return data

    def get_data(self, caching: str = "fill") -> np.ndarray:
        """Scaled image data in their natural dtype, cached by default.

        With ``caching='fill'`` the array read from a proxy is kept and
        returned by later calls, so changes to it show in later results
        (and are what :meth:`to_file_map` writes). ``'unchanged'`` does not
        fill an empty cache. :meth:`uncache` empties it.
        """
        _check_caching(caching)
        if self._data_cache is not None:
            return self._data_cache
        data = np.asanyarray(self._dataobj)
        if caching == "fill":
            self._data_cache = data
        return data

    def uncache(self) -> None:
        """Drop the data cached by :meth:`get_fdata` and :meth:`get_data`.

        An array image keeps its array (its ``dataobj``); a proxy image reads
        its data again on the next call.
        """
        self._data_cache = None
        self._fdata_cache = None

    def __getitem__(self, index: Any) -> None:
        # an image is not an array: say which of the three things meant by
        # indexing one to use (a TypeError, as NiBabel raises)
        raise TypeError(
            f"a {type(self).__name__} cannot be indexed: use img.slicer[...] for a smaller "
            "image with its affine moved to match, img.dataobj[...] to read only those "
            "voxels, or img.get_fdata()[...] for the scaled values"
        )

    @property
    def slicer(self) -> ImageSlicer:
        """``img.slicer[...]`` returns a sub-image with its affine adjusted."""
        return ImageSlicer(self)

    def get_data_dtype(self) -> np.dtype:
        """The on-disk data dtype the header records."""
        return self._header.get_data_dtype()

    def set_data_dtype(self, dtype: Any) -> None:
        """Set the on-disk data dtype used when saving."""
        self._header.set_data_dtype(dtype)

    # -- header harmonisation --------------------------------------------------------------
    def update_header(self) -> None:
        """Make the header agree with the data shape and the affine."""
        hdr = self._header
        shape = self.shape
        if tuple(hdr.get_data_shape()) != shape:
            hdr.set_data_shape(shape)
        if self._affine is not None:
            self._affine2header()

    def _affine2header(self) -> None:
        """Store the affine in the header; the template stores the voxel sizes."""
        hdr = self._header
        zooms = list(hdr.get_zooms())
        n = min(3, len(zooms))
        from .geometry import voxel_sizes  # here: the geometry helpers serve saves and slicing

        zooms[:n] = voxel_sizes(self._affine)[:n]
        hdr.set_zooms(zooms)

    # -- files -------------------------------------------------------------------------------
    def get_filename(self) -> str | None:
        """The characteristic file name (the image file of a pair), or None."""
        holder = self.file_map.get("image") or next(iter(self.file_map.values()), None)
        return None if holder is None else holder.filename

    def set_filename(self, filename: str | os.PathLike) -> None:
        """Point the file map at the files implied by ``filename``."""
        self.file_map = self.filespec_to_file_map(filename)

    @classmethod
    def make_file_map(cls, mapping: Mapping[str, Any] | None = None) -> FileMap:
        """A file map for this class, filled from file names or objects in ``mapping``."""
        return _filemaps.make_file_map(cls.files_types, mapping)

    @classmethod
    def filespec_to_file_map(cls, filespec: str | os.PathLike) -> FileMap:
        """File map of names implied by ``filespec``; ImageFileError if it does not fit."""
        return _filemaps.filespec_to_file_map(
            filespec, cls.files_types, cls.valid_exts, cls.compressed_suffixes
        )

    @classmethod
    def from_file_map(
        cls,
        file_map: Mapping[str, FileHolder],
        *,
        mmap: bool | str = True,
        keep_file_open: bool | None = None,
    ) -> SpatialImage:
        """Read an image from a file map: the header now, the data lazily.

        The steps every format shares (:mod:`voxelio.imagefiles`): open the
        header's file (``'header'`` if the format has one, else its first
        file type), parse it with ``header_class.from_fileobj``, and put an
        :class:`~voxelio.proxy.ArrayProxy` on the data the header describes
        (``get_data_offset``, ``get_slope_inter``) in the ``'image'`` file.
        A format changes a step by overriding :meth:`_read_header`,
        :meth:`_data_proxy` or this method. One
        :class:`~voxelio.codecs.handoff.ReaderHandOff` passes from the first
        step to the second: when the header's file is also the data's (a
        compressed single-file format), the proxy's first read takes the
        reader the header was read with instead of decompressing again.

        Raises
        ------
        ImageFileError
            If the file map lacks a file, or a file is missing or unreadable.
        NotImplementedError
            For a class whose header cannot be read from a file.
        """
        if not hasattr(cls.header_class, "from_fileobj"):
            raise NotImplementedError(f"{cls.__name__} cannot read files")
        check_image_mmap(mmap)
        hand_off = ReaderHandOff()
        header = cls._read_header(file_map, hand_off)
        dataobj = cls._data_proxy(
            file_map, header, mmap=mmap, keep_file_open=keep_file_open, hand_off=hand_off
        )
        token = _READ_HEADER.set(header)
        try:
            return cls(dataobj, header.get_best_affine(), header, file_map=file_map)
        finally:
            _READ_HEADER.reset(token)

    @classmethod
    def _read_header(
        cls, file_map: Mapping[str, FileHolder], hand_off: ReaderHandOff | None = None
    ) -> Header:
        """The header, parsed from its file (OS errors become ImageFileError).

        A compressed header file's reader is left in ``hand_off``, if given.
        """
        file_type = _imagefiles.header_file_type(cls.files_types)
        holder = _imagefiles.file_holder(file_map, file_type, cls.__name__)
        return _imagefiles.read_header(
            holder, cls.header_class.from_fileobj, file_type, hand_off=hand_off
        )

    @classmethod
    def _data_proxy(
        cls,
        file_map: Mapping[str, FileHolder],
        header: Header,
        *,
        mmap: bool | str,
        keep_file_open: bool | None,
        hand_off: ReaderHandOff | None = None,
    ) -> Any:
        """A lazy proxy on the data ``header`` describes, in the 'image' file.

        Its first read takes the reader in ``hand_off`` if that reads the same file.
        """
        holder = _imagefiles.file_holder(file_map, "image", cls.__name__)
        return _imagefiles.data_proxy(
            holder, header, mmap=mmap, keep_file_open=keep_file_open, hand_off=hand_off
        )

    @classmethod
    def from_filename(
        cls,
        filename: str | os.PathLike,
        *,
        mmap: bool | str = True,
        keep_file_open: bool | None = None,
    ) -> SpatialImage:
        """Read an image from the file(s) implied by ``filename``.

        The load is retried while another process is saving the same files,
        and refused (ImageFileError) when a killed save left them mixed.
        """
        from ._settled import load_settled

        check_image_mmap(mmap)
        file_map = cls.filespec_to_file_map(filename)
        return load_settled(
            lambda: cls.from_file_map(file_map, mmap=mmap, keep_file_open=keep_file_open),
            file_map,
        )

    load = from_filename

    # -- streams and URLs ------------------------------------------------------------------
    # streams, URLs and archives import their code on first use: a load from a file
    # name, the common case, needs none of it
    def to_stream(self, io_obj: BinaryIO, **options: Any) -> None:
        """Write the image to a writable binary stream (see :meth:`to_bytes` for pairs)."""
        from . import imagestreams as _streams

        _streams.to_stream(self, io_obj, **options)

    @classmethod
    def from_stream(cls, io_obj: BinaryIO, **kwargs: Any) -> SpatialImage:
        """Read an image from a readable binary stream, such as :meth:`to_stream` wrote."""
        from . import imagestreams as _streams

        return _streams.from_stream(cls, io_obj, **kwargs)

    @classmethod
    def from_url(cls, url: str, timeout: float = URL_TIMEOUT, **kwargs: Any):
        """Download ``url`` and read the image it holds (loaded into memory)."""
        from . import imagestreams as _streams

        return _streams.from_url(cls, url, timeout, **kwargs)

    # -- saving, bytes and conversion -------------------------------------------------------
    # in modules of their own, imported on first use (voxelio._lazy.LazyMember): a
    # process that only loads never unmarshals them
    to_file_map = LazyMember("voxelio._image_writing:to_file_map")
    _warn_affine_not_kept = LazyMember("voxelio._image_writing:_warn_affine_not_kept")
    _plan_storage = LazyMember("voxelio._image_writing:_plan_storage")
    to_filename = LazyMember("voxelio._image_writing:to_filename")
    instance_to_filename = LazyMember("voxelio._image_writing:instance_to_filename")
    to_bytes = LazyMember("voxelio._image_writing:to_bytes")
    from_bytes = LazyMember("voxelio._image_writing:from_bytes")
    from_image = LazyMember("voxelio._image_conversion:from_image")
    _affine_losses = LazyMember("voxelio._image_conversion:_affine_losses")

    def _write_files(self, files: Mapping[str, Any], header: Header, plan: Any) -> None:
        """Write header and data to the open ``files`` (file type -> stream); per format."""
        raise NotImplementedError(f"{type(self).__name__} cannot write files")

    def to_nibabel(self) -> Any:
        """The NiBabel image of this image: same header bytes, affine, extras, lazy data.

        Needs NiBabel (``pip install 'voxelio[nibabel]'``); see
        :func:`voxelio.integrations.nibabel.to_nibabel`. Nothing is read or
        copied: NiBabel gets this image's data object.
        """
        from .integrations.nibabel import to_nibabel

        return to_nibabel(self)

    def to_dask(self, chunks: Any = None, *, dtype: Any = None) -> Any:
        """This image's data as a lazy dask array (``voxelio[dask]``).

        Chunks follow the storage by default, the dtype is the scaled one
        (``dataobj.scaled_dtype``) and nothing is read until computed; see
        :func:`voxelio.integrations.dask.to_dask`.
        """
        from .integrations.dask import to_dask

        return to_dask(self, chunks, dtype=dtype)

    as_reoriented = LazyMember("voxelio._image_conversion:as_reoriented")

    def data_for_write(self) -> Any:
        """What a save writes: the ``get_data`` cache if filled, else ``dataobj``."""
        return self._data_cache if self._data_cache is not None else self._dataobj

    def __str__(self) -> str:
        affine = "None" if self._affine is None else np.array2string(self._affine, precision=4)
        return (
            f"{type(self).__name__}\n  data shape {self.shape}"
            f"\n  data dtype {self.get_data_dtype()}\n  affine:\n{affine}"
            f"\n  header: {type(self._header).__name__}"
        )

    # -- old names ---------------------------------------------------------------------------
    @classmethod
    def from_files(cls, file_map: Mapping[str, FileHolder], **kwargs: Any) -> SpatialImage:
        """Deprecated alias of :meth:`from_file_map`."""
        warnings.warn("from_files is deprecated; use from_file_map", DeprecationWarning, 2)
        return cls.from_file_map(file_map, **kwargs)

    @classmethod
    def from_filespec(cls, filespec: str | os.PathLike, **kwargs: Any) -> SpatialImage:
        """Deprecated alias of :meth:`from_filename`."""
        warnings.warn("from_filespec is deprecated; use from_filename", DeprecationWarning, 2)
        return cls.from_filename(filespec, **kwargs)

    @classmethod
    def filespec_to_files(cls, filespec: str | os.PathLike) -> FileMap:
        """Deprecated alias of :meth:`filespec_to_file_map`."""
        warnings.warn(
            "filespec_to_files is deprecated; use filespec_to_file_map", DeprecationWarning, 2
        )
        return cls.filespec_to_file_map(filespec)

    def to_files(self, file_map: Mapping[str, FileHolder] | None = None, **options: Any) -> None:
        """Deprecated alias of :meth:`to_file_map`."""
        warnings.warn("to_files is deprecated; use to_file_map", DeprecationWarning, 2)
        self.to_file_map(file_map, **options)

    def to_filespec(self, filename: str | os.PathLike, **options: Any) -> None:
        """Deprecated alias of :meth:`to_filename`."""
        warnings.warn("to_filespec is deprecated; use to_filename", DeprecationWarning, 2)
        self.to_filename(filename, **options)


class ImageSlicer:
    """``img.slicer[index]``: a new image of a sub-array, with its affine.

    Integer indices and ``None`` are refused on the three spatial axes (the
    affine needs them); use ``i:i+1`` to keep one plane. Later axes (time,
    ...) accept integers, which drop the axis.
    """

    def __init__(self, img: SpatialImage) -> None:
        self.img = img

    def __getitem__(self, index: Any) -> SpatialImage:
        img = self.img
        plan = self._plan(index)
        items = index if isinstance(index, tuple) else (index,)
        spatial = min(3, img.ndim)
        if any(p.drop for p in plan.picks[:spatial]):
            raise IndexError(
                "cannot index a spatial axis with an integer through img.slicer: "
                "use a slice such as i:i+1 to keep one plane"
            )
        if plan.newaxes and min(plan.newaxes) < spatial:
            raise IndexError("cannot insert new axes among the spatial axes")
        data = img.dataobj[items] if is_proxy(img.dataobj) else np.asanyarray(img.dataobj)[items]
        affine = None if img.affine is None else self._affine_for(plan)
        new = type(img)(data, affine, img.header.copy(), extra=dict(img.extra))
        return new

    def slice_affine(self, index: Any) -> np.ndarray:
        """The affine of the image ``img.slicer[index]`` would return.

        Raises
        ------
        ValueError
            For a zero step; IndexError for indices the slicer refuses.
        """
        if self.img.affine is None:
            raise ValueError("the image has no affine to slice")
        return self._affine_for(self._plan(index))

    def _plan(self, index: Any) -> Any:
        if is_fancy(index):
            raise IndexError("img.slicer takes ints, slices and Ellipsis only (no arrays)")
        plan = plan_index(index, self.img.shape)
        if 0 in plan.counts:
            raise IndexError(f"img.slicer[{index!r}] would give an empty image")
        return plan

    def _affine_for(self, plan: Any) -> np.ndarray:
        spatial = min(3, self.img.ndim)
        starts = [p.last if p.flip else p.start for p in plan.picks[:spatial]]
        steps = [-p.step if p.flip else p.step for p in plan.picks[:spatial]]
        from .geometry import slice_affine

        return slice_affine(self.img.affine, starts, steps)


def _as_affine(affine: Any) -> np.ndarray | None:
    if affine is None:
        return None
    arr = np.array(affine, dtype=np.float64)
    if arr.shape != (4, 4):
        raise ValueError(f"affine must be a 4x4 array, not shape {arr.shape}")
    return arr


#: ``mmap`` values an image accepts (a writable map, 'r+', would let the data
#: be changed in the file behind the image's back)
IMAGE_MMAP_VALUES = (True, False, "c", "r")


def check_image_mmap(mmap: Any) -> None:
    """Raise ValueError unless ``mmap`` is True, False, 'c' or 'r'."""
    if not any(mmap is v or (isinstance(v, str) and mmap == v) for v in IMAGE_MMAP_VALUES):
        raise ValueError(f"mmap must be True, False, 'c' or 'r' for images, not {mmap!r}")


def _check_caching(caching: str) -> None:
    if caching not in ("fill", "unchanged"):
        raise ValueError(f"caching must be 'fill' or 'unchanged', not {caching!r}")


#: the options to_file_map passes to the compressor (besides ``dtype``)
SAVE_OPTIONS = ("compresslevel", "gzip_blocks")


