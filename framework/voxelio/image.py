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
import io
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any, BinaryIO, ClassVar

import numpy as np

from . import filemaps as _filemaps
from . import imagefiles as _imagefiles
from .codecs.detect import COMPRESSED_SUFFIXES
from .codecs.handoff import ReaderHandOff
from .errors import ConversionWarning, HeaderDataError, ImageDataError, ImageFileError
from .filemaps import FileHolder, FileMap
from .header import Header
from .proxy import is_proxy
from .slicing import is_fancy, plan_index

_ZIP_MAGIC = b"PK\x03\x04"
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

    def to_file_map(
        self, file_map: Mapping[str, FileHolder] | None = None, dtype: Any = None, **options: Any
    ) -> None:
        """Write the image to a file map (default: its own).

        The steps every format shares: check that the map names every file
        of the format, make the header agree with data and affine, copy it
        and set ``dtype`` on the copy, let the format plan the stored
        values (:meth:`_plan_storage`) before any file is opened, then open
        every file for writing (compressed as its name says, written aside
        and moved over the target only when complete) and let the format
        write them (:meth:`_write_files`). The image's file map then points
        at the files written.

        Parameters
        ----------
        file_map : mapping, optional
            Where to write; defaults to the image's own ``file_map``.
        dtype : dtype-like, optional
            On-disk data type for this write; defaults to the header's.
        **options
            Compressor options such as ``compresslevel``.

        Raises
        ------
        ImageFileError
            If the file map lacks one of the format's files.
        HeaderDataError
            If the format cannot store ``dtype``.
        WriterError
            If the data cannot be stored as planned (values out of range).
        NotImplementedError
            For a class that does not write files.
        """
        if type(self)._write_files is SpatialImage._write_files:
            raise NotImplementedError(f"{type(self).__name__} cannot write files")
        source = self.file_map if file_map is None else file_map
        targets = _imagefiles.file_map_to_write(source, self.files_types, type(self).__name__)
        _check_save_options(options, targets)
        self.update_header()
        self._warn_affine_not_kept()
        header = self._header.copy()
        if dtype is not None:
            header.set_data_dtype(dtype)
        plan = self._plan_storage(header)
        from .openfiles import writing

        with writing(targets, self.compression_aliases, **options) as files:
            self._write_files(files, header, plan)
        self.file_map = targets

    def _warn_affine_not_kept(self) -> None:
        """ConversionWarning when the format stores less of the affine than the image has.

        Not again for a loss :meth:`from_image` already reported.
        """
        lost = [loss for loss in self._affine_losses() if loss not in self.conversion_report]
        if lost:
            warnings.warn(
                ConversionWarning(
                    f"{type(self).__name__} cannot keep: {'; '.join(lost)} (the file will "
                    "give back the affine the format can store)",
                    lost,
                ),
                stacklevel=3,
            )

    def _plan_storage(self, header: Header) -> Any:
        """How the data will be stored in ``header``'s dtype (before any file opens).

        The default scales only as ``can_store_slope`` and
        ``can_store_intercept`` allow; a format that stores the scaling
        records it in ``header`` here.
        """
        from .writing import plan_storage

        return plan_storage(
            self.data_for_write(), header.get_data_dtype(),
            can_slope=self.can_store_slope, can_inter=self.can_store_intercept,
        )

    def _write_files(self, files: Mapping[str, Any], header: Header, plan: Any) -> None:
        """Write header and data to the open ``files`` (file type -> stream); per format."""
        raise NotImplementedError(f"{type(self).__name__} cannot write files")

    def to_filename(self, filename: str | os.PathLike, **options: Any) -> None:
        """Write the image to the file(s) implied by ``filename``.

        ``options`` go to :meth:`to_file_map` (``dtype``, ``compresslevel``...).
        The image's file map then points at the new files.
        """
        file_map = self.filespec_to_file_map(filename)
        self.to_file_map(file_map, **options)
        self.file_map = file_map

    @classmethod
    def instance_to_filename(cls, img: Any, filename: str | os.PathLike, **options: Any) -> None:
        """Save any image in this class's format under ``filename``."""
        cls.from_image(img).to_filename(filename, **options)

    # -- bytes -------------------------------------------------------------------------------
    def to_bytes(self, **options: Any) -> bytes:
        """The image as the bytes of its file.

        A format stored in one file gives exactly that file's bytes. A
        format stored in several files (header + image pairs) gives an
        uncompressed ZIP archive holding one member per file type, named
        ``image`` plus the file type's extension (``image.hdr``,
        ``image.img``): unzipped, it is a valid file set.
        """
        file_map = {ft: FileHolder(fileobj=io.BytesIO()) for ft, _ in self.files_types}
        self.to_file_map(file_map, **options)
        if len(self.files_types) == 1:
            return file_map[self.files_types[0][0]].fileobj.getvalue()
        from ._archive import pack_members

        return pack_members({
            f"image{ext or '.' + file_type}": file_map[file_type].fileobj.getvalue()
            for file_type, ext in self.files_types
        })

    @classmethod
    def from_bytes(cls, bytestring: bytes, **kwargs: Any) -> SpatialImage:
        """An image from bytes made by :meth:`to_bytes` (loaded fully into memory).

        Raises
        ------
        ImageFileError
            For a multi-file format, when the bytes are not a readable ZIP
            archive with exactly one member per file type (found by
            extension; other members are ignored).
        """
        data = bytes(bytestring)
        if len(cls.files_types) == 1:
            file_map = {cls.files_types[0][0]: FileHolder(fileobj=io.BytesIO(data))}
            return cls.from_file_map(file_map, **kwargs)
        if not data.startswith(_ZIP_MAGIC):
            raise ImageFileError(
                f"{cls.__name__} bytes must be the ZIP archive to_bytes() makes "
                f"(one member per file type: {[t for t, _ in cls.files_types]})"
            )
        wanted = {file_type: ext or "." + file_type for file_type, ext in cls.files_types}
        from ._archive import unpack_members

        members = unpack_members(data, wanted, cls.__name__)
        file_map = {t: FileHolder(fileobj=io.BytesIO(content)) for t, content in members.items()}
        return cls.from_file_map(file_map, **kwargs)

    # -- conversion ----------------------------------------------------------------------------
    @classmethod
    def from_image(cls, img: Any, *, dtype: Any = None) -> SpatialImage:
        """An image of this class with the data, affine, header and extras of ``img``.

        Parameters
        ----------
        img : image
            Any object with ``dataobj``, ``affine``, ``header`` and ``extra``.
        dtype : dtype-like, optional
            On-disk dtype for the new image. By default the source's dtype is
            kept; if this format cannot store it, HeaderDataError says which
            dtypes it can store, rather than losing precision silently.

        Notes
        -----
        A NiBabel image whose class a voxelio format names as its
        counterpart first becomes that format's voxelio image through the
        NiBabel bridge (:func:`voxelio.integrations.nibabel.from_nibabel`):
        its header bytes, NIfTI extensions, MGH footer and scaling carry
        over, and a NiBabel proxy becomes a voxelio proxy of the same file.
        That image is then converted as any voxelio image is.
        """
        if _is_nibabel_image(img):
            img = _bridged_from_nibabel(img)
        header = cls.header_class.from_header(img.header)
        wanted = np.dtype(dtype) if dtype is not None else _source_dtype(img)
        if wanted is not None:
            try:
                header.set_data_dtype(wanted)
            except HeaderDataError as err:
                raise HeaderDataError(
                    _conversion_message(cls, wanted, err, chosen=dtype is not None)) from None
        new = cls(img.dataobj, img.affine, header, extra=getattr(img, "extra", None))
        new._data_cache = getattr(img, "_data_cache", None)
        # the constructor stored the affine in the header as the format can
        new.conversion_report = _conversion_losses(img.header, new.header) + new._affine_losses()
        if new.conversion_report:
            warnings.warn(
                ConversionWarning(
                    f"{type(img).__name__} -> {cls.__name__} cannot keep: "
                    + "; ".join(new.conversion_report)
                    + " (listed in the new image's conversion_report)",
                    new.conversion_report,
                ),
                stacklevel=2,
            )
        return new

    def _affine_losses(self) -> tuple[str, ...]:
        """What of the affine the header (as updated from it) gives back differently."""
        best = getattr(self._header, "get_best_affine", None)
        if self._affine is None or best is None:
            return ()
        try:
            stored = best()
        except Exception:  # a header that cannot build an affine: nothing to compare
            return ()
        from .geometry import affine_losses

        return affine_losses(self._affine, stored)

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

    def as_reoriented(self, ornt: Any) -> SpatialImage:
        """This image with its voxel axes flipped and transposed by ``ornt``.

        Parameters
        ----------
        ornt : (n, 2) array-like
            An orientation (see :mod:`voxelio.orientation`): row ``i`` gives
            the new position of voxel axis ``i`` and -1 to reverse it. Only
            the first ``n`` axes move (time and later axes stay).

        Returns
        -------
        SpatialImage
            ``self`` if ``ornt`` changes nothing; else a new image of the
            same class whose affine maps the moved voxels to the same world
            points. A proxy image stays lazy: the new ``dataobj`` is a view
            that reads only what an index needs. The header follows (shape,
            zooms, and format fields such as NIfTI's q/sform and dim_info).
            ``new.as_reoriented(voxelio.orientation.inverse_ornt(ornt))``
            gives back the original data and affine.
        """
        from . import orientation
        from .reoriented import reorient_dataobj

        ornt = orientation._as_ornt(ornt)
        n = len(ornt)
        if n > self.ndim:
            raise orientation.OrientationError(
                f"orientation has {n} rows for a {self.ndim}-d image"
            )
        if n > 3:
            if not orientation.is_identity(ornt[3:] - [[3, 0]]):
                raise orientation.OrientationError(
                    "only the three spatial axes can be reoriented; rows 3 and later of "
                    f"the orientation must leave their axes in place, not {ornt[3:].tolist()}"
                )
            ornt, n = ornt[:3], 3
        if orientation.is_identity(ornt):
            return self
        transform = orientation.inv_ornt_aff(ornt, self.shape)
        # the same transform on the three spatial axes of a 4x4 affine
        full = np.eye(4)
        full[:n, :n] = transform[:n, :n]
        full[:n, 3] = transform[:n, n]
        affine = None if self._affine is None else self._affine @ full
        data = reorient_dataobj(self.data_for_write(), ornt)
        header = self._header.copy()
        zooms = list(header.get_zooms())
        moved = list(zooms)
        for axis, target in enumerate(ornt[:, 0].astype(int)):
            if axis < len(zooms) and target < len(zooms):
                moved[target] = zooms[axis]
        header.reorient_fields(ornt, full)  # format fields first: they see the old axes
        header.set_data_shape(data.shape)
        header.set_zooms(moved)
        new = type(self)(data, affine, header, extra=dict(self._extra))
        return new

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


def _is_nibabel_image(img: Any) -> bool:
    """True for an instance of a NiBabel class (or a subclass of one).

    NiBabel is never imported for this: its images exist only once it has been.
    """
    if "nibabel" not in sys.modules:
        return False
    return any(klass.__module__.startswith("nibabel.") for klass in type(img).__mro__)


def _bridged_from_nibabel(nib_img: Any) -> Any:
    """The voxelio image of ``nib_img``'s counterpart format; ``nib_img`` if none exists."""
    from .integrations.nibabel import NibabelBridgeError, from_nibabel

    try:
        return from_nibabel(nib_img)
    except NibabelBridgeError:
        return nib_img  # no format claims its class: the generic conversion reads it


def _source_dtype(img: Any) -> np.dtype | None:
    try:
        return np.dtype(img.get_data_dtype())
    except (AttributeError, TypeError):
        dataobj = getattr(img, "dataobj", None)
        return np.dtype(dataobj.dtype) if hasattr(dataobj, "dtype") else None


def _conversion_losses(source: Any, target: Header) -> tuple[str, ...]:
    """What ``source`` (a header of another class) holds that ``target`` cannot."""
    if type(source) is type(target):
        return ()
    hook = getattr(source, "conversion_losses", None)
    return tuple(hook(target)) if hook is not None else ()


#: the options to_file_map passes to the compressor (besides ``dtype``)
SAVE_OPTIONS = ("compresslevel", "gzip_blocks")


def _check_save_options(options: Mapping[str, Any], targets: Mapping[str, Any]) -> None:
    """Refuse unknown save options, naming the target and the options that exist."""
    unknown = sorted(set(options) - set(SAVE_OPTIONS))
    if unknown:
        names = [getattr(h, "filename", None) or "a file object" for h in targets.values()]
        raise TypeError(
            f"cannot save {', '.join(str(n) for n in names)}: unknown save option"
            f"{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid options: dtype, {', '.join(SAVE_OPTIONS)}"
        )


def _conversion_message(cls: type, dtype: np.dtype, err: Exception, chosen: bool) -> str:
    """Why ``cls`` cannot store ``dtype``: the stored dtypes once, advice if none was chosen."""
    try:
        from .dtypes import supported_np_types

        names = ", ".join(sorted(str(np.dtype(t)) for t in supported_np_types(cls)))
    except Exception:  # the listing is a courtesy; the conversion error is what matters
        names = None
    text = f"{cls.__name__} cannot store {dtype} data; it stores {names}" if names else (
        f"{cls.__name__} cannot store {dtype} data ({err})")
    if chosen:  # the caller named this dtype: advice to name one would be noise
        return text
    from .writing import _CHOOSE_DTYPE

    if _CHOOSE_DTYPE.get(None) is not None:  # a caller with its own words (the CLI)
        return f"{text}. Choose one: {_CHOOSE_DTYPE.get().format(dtype='...')}"
    return (text + ". Choose one: voxelio.save(img, path, dtype=...), "
            "Klass.from_image(img, dtype=...) or `voxelio convert IN OUT --dtype ...`")
