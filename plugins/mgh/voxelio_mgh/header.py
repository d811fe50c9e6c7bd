"""The MGH header: 90 bytes at the start, a 20-byte footer after the data.

On disk (always big-endian)::

    0    version      int32 (1)
    4    dims         int32 x 4   width, height, depth, frames
    20   type         int32       data type code
    24   dof          int32
    28   goodRASFlag  int16       0: the geometry fields are not set
    30   delta        float32 x 3 voxel sizes (mm)
    42   Mdc          float32 x 9 direction cosines of the x, y, z axes (rows)
    78   Pxyz_c       float32 x 3 RAS of the volume centre
    90   unused       zeros up to 284, where the data start (Fortran order)
    284 + data size:  tr, flip_angle, te, ti, fov  float32 (ms, radians, ms, ms, mm)
    then:             FreeSurfer tags (see voxelio_mgh.tags)

:class:`MGHHeader` holds the header and the footer fields in one
structured block (``binaryblock`` is those 110 bytes), and keeps the
unused bytes and the tags beside it, so that a file read and written back
is byte-identical.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, BinaryIO

import numpy as np

from voxelio.plugin import (
    ERROR,
    INFO,
    WARNING,
    DtypeTable,
    HeaderDataError,
    ImageFileError,
    Report,
    StructHeader,
)

from . import _layout, affines
from ._layout import DATA_OFFSET, FOOTER_SIZE, HEADER_SIZE, MAX_DIMS, VERSION
from .tags import MGHTags

#: decompressed bytes kept past the footer and OPAQUE_BYTES (the record heads around them)
_TAGS_SLACK = 64 * 1024

UNUSED_SIZE = DATA_OFFSET - HEADER_SIZE

header_dtype = np.dtype(
    [
        ("version", ">i4"),
        ("dims", ">i4", (4,)),
        ("type", ">i4"),
        ("dof", ">i4"),
        ("goodRASFlag", ">i2"),
        ("delta", ">f4", (3,)),
        ("Mdc", ">f4", (3, 3)),
        ("Pxyz_c", ">f4", (3,)),
    ]
)
footer_dtype = np.dtype(
    [("tr", ">f4"), ("flip_angle", ">f4"), ("te", ">f4"), ("ti", ">f4"), ("fov", ">f4")]
)
mgh_dtype = np.dtype(header_dtype.descr + footer_dtype.descr)
assert header_dtype.itemsize == HEADER_SIZE and footer_dtype.itemsize == FOOTER_SIZE

#: the footer's scan parameters, in file order
SCAN_PARAMETERS = footer_dtype.names

#: FreeSurfer's MRI_* type codes that MGH files may hold and numpy can hold
DATA_TYPES = DtypeTable.from_rows("MGH data type", _layout.DATA_TYPES)


class TooManyDimensionsError(HeaderDataError, ValueError):
    """A shape of more than 4 dimensions for an MGH image."""


# -- checks -----------------------------------------------------------------------
def _check_version(hdr: MGHHeader, fix: bool) -> Report | None:
    version = int(hdr["version"])
    if version != VERSION:
        msg = f"Unknown MGH format version {version} (expected {VERSION}): not an MGH file?"
        return Report(ERROR, msg)
    return None


def _check_dims(hdr: MGHHeader, fix: bool) -> Report | None:
    dims = [int(d) for d in hdr["dims"]]
    if any(d <= 0 for d in dims):
        return Report(ERROR, f"Dimensions of the data should be non-zero and positive, not {dims}")
    return None


def _check_type(hdr: MGHHeader, fix: bool) -> Report | None:
    try:
        DATA_TYPES.dtype(int(hdr["type"]))
    except HeaderDataError as err:
        supported = ", ".join(str(d) for d in DATA_TYPES.supported_dtypes())
        return Report(ERROR, f"{err} (voxelio reads MGH data of types {supported})")
    return None


def _check_ras_flag(hdr: MGHHeader, fix: bool) -> Report | None:
    if int(hdr["goodRASFlag"]) > 0:
        return None
    flag = int(hdr["goodRASFlag"])
    report = Report(
        INFO, f"goodRASFlag is {flag}: the file records no voxel sizes or orientation"
    )
    if fix:
        hdr.set_default_geometry()
        report.fix_msg = "using FreeSurfer's default (1 mm voxels, coronal LIA, centre at 0)"
    return report


class MGHHeader(StructHeader):
    """Header (and footer) of a FreeSurfer MGH/MGZ file.

    Fields by name: ``version``, ``dims``, ``type``, ``dof``,
    ``goodRASFlag``, ``delta``, ``Mdc``, ``Pxyz_c`` and the scan
    parameters ``tr``, ``flip_angle``, ``te``, ``ti``, ``fov``. FreeSurfer's
    tagged records after the footer are in :attr:`tags`.

    Parameters
    ----------
    binaryblock : bytes-like, optional
        110 bytes: the 90-byte header followed by the 20-byte footer.
    endianness : str, optional
        Only big-endian ('>') is allowed.
    check : bool, optional
        Run the checks (fixing what they can) on a header read from bytes.
    tags : MGHTags or iterable of MGHTag, optional
        The records after the footer.
    """

    template_dtype = mgh_dtype
    fixed_endianness = ">"
    coded_fields = {"type": DATA_TYPES}
    defaults = {
        "version": VERSION,
        "dims": [1, 1, 1, 1],
        "type": 3,
        "goodRASFlag": 1,
        "delta": [1, 1, 1],
        "Mdc": affines.DEFAULT_MDC,
    }
    checks = (_check_version, _check_dims, _check_type, _check_ras_flag)

    def __init__(
        self,
        binaryblock: bytes | bytearray | memoryview | None = None,
        endianness: str | None = None,
        check: bool = True,
        tags: Any = None,
    ) -> None:
        self.tags = MGHTags(tags or (), getattr(tags, "tail", b""))
        self.unused = bytes(UNUSED_SIZE)
        super().__init__(binaryblock, endianness, check)

    # -- reading -------------------------------------------------------------------
    @classmethod
    def from_fileobj(cls, fileobj: BinaryIO, endianness: str | None = None, check: bool = True):
        """Read header, footer and tags from an MGH stream at its current position.

        Raises
        ------
        HeaderDataError
            For an invalid header (version, dimensions, data type).
        ImageFileError
            When the file is shorter than its header says.
        """
        base = _tell(fileobj)
        head = fileobj.read(DATA_OFFSET)
        if len(head) < HEADER_SIZE:
            raise ImageFileError(
                f"an MGH header needs {HEADER_SIZE} bytes; the file has only {len(head)}"
            )
        hdr = cls(head[:HEADER_SIZE] + bytes(FOOTER_SIZE), endianness, check)
        hdr.unused = head[HEADER_SIZE:].ljust(UNUSED_SIZE, b"\x00")
        try:
            data_end = hdr.get_footer_offset()
        except HeaderDataError:
            if check:
                raise
            # unchecked (``voxelio check`` of a header that does not load): the
            # footer's place depends on the very fields the checks will report
            return hdr
        keep_below = getattr(fileobj, "keep_below", None)
        if keep_below is not None:
            from voxelio.plugin import limits

            # a compressed stream: what a load reads ends with the footer and the tags
            # voxelio keeps (at most OPAQUE_BYTES of what it cannot delimit), so the
            # pass that learns the size below keeps no more than that in memory
            keep_below(base + data_end + FOOTER_SIZE + limits.OPAQUE_BYTES + _TAGS_SLACK)
        size = _stream_size(fileobj, base)
        if size is not None and size < data_end:
            raise ImageFileError(
                f"truncated MGH file: the header promises {data_end - DATA_OFFSET} bytes of "
                f"data (shape {hdr.get_data_shape()}, {hdr.get_data_dtype().name}) but the file "
                f"holds {max(size - DATA_OFFSET, 0)}"
            )
        fileobj.seek(base + data_end)
        footer = fileobj.read(FOOTER_SIZE)
        if len(footer) < FOOTER_SIZE:
            hdr.load_reports.append(
                Report(INFO, f"the footer has {len(footer)} of {FOOTER_SIZE} bytes; rest set to 0")
            )
        full = np.frombuffer(footer.ljust(FOOTER_SIZE, b"\x00"), dtype=footer_dtype)[0]
        for name in SCAN_PARAMETERS:
            hdr[name] = full[name]
        if len(footer) == FOOTER_SIZE:
            hdr.tags, problem = MGHTags.from_fileobj(fileobj)
            if problem:
                hdr.load_reports.append(Report(WARNING, problem))
                warnings.warn(problem, UserWarning, stacklevel=2)
                # what a compressed reader kept of the stream's end is that junk,
                # not the data: do not hold it for as long as the image lives
                release = getattr(fileobj, "release_cache", None)
                if release is not None:
                    release()
        return hdr

    @classmethod
    def from_header(cls, header: Any = None, check: bool = True) -> MGHHeader:
        """An MGH header from another header (copied if it is one).

        From another format: dtype (when MGH can hold it), shape (at most
        4-D), positive spatial zooms, and a 4th zoom as TR in milliseconds
        when the other header says its time unit (``get_xyzt_units``).
        ``check`` runs :meth:`check_fix` on a copied MGH header.
        """
        if header is None:
            return cls()
        if type(header) is cls:
            obj = header.copy()
            if check:
                obj.check_fix()
            return obj
        obj = cls()
        with contextlib.suppress(HeaderDataError, TypeError):
            obj.set_data_dtype(header.get_data_dtype())
        shape = tuple(header.get_data_shape())
        obj.set_data_shape(shape)
        zooms = [float(z) for z in header.get_zooms()][: len(obj.get_data_shape())]
        if all(z > 0 for z in zooms[:3]):
            obj["delta"] = [*zooms[:3], 1.0, 1.0][:3]
        if len(zooms) == 4:
            obj["tr"] = _tr_in_ms(header, zooms[3])
        return obj

    def copy(self) -> MGHHeader:
        """An independent copy, tags and unused bytes included."""
        obj = type(self)(self.binaryblock, self.endianness, check=False, tags=self.tags.copy())
        obj.unused = self.unused
        obj.load_reports = list(self.load_reports)
        return obj

    def __eq__(self, other: object) -> bool:
        same = super().__eq__(other)
        if same is NotImplemented or not same:
            return same
        return self.tags == other.tags and self.unused == other.unused

    __hash__ = None  # type: ignore[assignment]

    # -- writing -------------------------------------------------------------------
    def write_to(self, fileobj: BinaryIO) -> None:
        """Write the 90-byte header and the unused space up to the data offset."""
        fileobj.write(self.binaryblock[:HEADER_SIZE])
        fileobj.write(self.unused.ljust(UNUSED_SIZE, b"\x00")[:UNUSED_SIZE])

    def writeftr_to(self, fileobj: BinaryIO) -> None:
        """Write the footer and the tags at the current position (after the data)."""
        fileobj.write(self.binaryblock[HEADER_SIZE:])
        fileobj.write(self.tags.to_bytes())

    # -- conversions -----------------------------------------------------------------
    def get_world_space(self) -> str:
        """MGH's vox2ras maps to scanner RAS."""
        return "scanner"

    def conversion_losses(self, target: Any) -> list[str]:
        """What ``target``, a header of another format, cannot hold of this one.

        TR travels as the 4th zoom of a 4-D image (NIfTI stores it in
        seconds); the other scan parameters and the tags have no place in
        headers without those fields.
        """
        fields = set(target.keys()) if hasattr(target, "keys") else set()
        lost = []
        kept_tr = len(self.get_data_shape()) == 4
        for name in SCAN_PARAMETERS:
            if name == "tr" and kept_tr:
                continue
            if float(self[name]) and name not in fields:
                lost.append(f"{name} = {float(self[name]):g}")
        if (self.tags or self.tags.tail) and not hasattr(target, "tags"):
            lost.append(f"{len(self.tags)} FreeSurfer tag(s) after the footer")
        return lost

    # -- the NiBabel bridge (voxelio.integrations.nibabel) ---------------------------------
    #: key of the NiBabel image's ``extra`` that carries what NiBabel's header cannot
    NIBABEL_EXTRA_KEY = "voxelio_mgh"

    def to_nibabel_header(self, nib_header_class: Any, extra: dict[str, Any]) -> Any:
        """NiBabel's header with these 110 bytes (header and footer).

        NiBabel keeps neither the tags after the footer nor the unused header
        space; they travel in ``extra['voxelio_mgh']`` so that
        ``voxelio.from_nibabel`` gives them back.
        """
        if self.tags or self.tags.tail or any(self.unused):
            extra[self.NIBABEL_EXTRA_KEY] = {"tags": self.tags.copy(), "unused": self.unused}
        return nib_header_class(binaryblock=bytes(self.binaryblock), check=False)

    @classmethod
    def from_nibabel_header(cls, nib_header: Any, extra: dict[str, Any]) -> MGHHeader:
        """A header with the bytes of a NiBabel MGH header (tags from ``extra`` if any)."""
        kept = extra.pop(cls.NIBABEL_EXTRA_KEY, None) or {}
        hdr = cls(bytes(nib_header.binaryblock), check=False, tags=kept.get("tags"))
        hdr.unused = kept.get("unused", hdr.unused)
        return hdr

    # -- template protocol --------------------------------------------------------
    def get_data_dtype(self) -> np.dtype:
        """The stored dtype (big-endian)."""
        return DATA_TYPES.dtype(int(self["type"])).newbyteorder(">")

    def set_data_dtype(self, dtype: Any) -> None:
        """Set the stored dtype: uint8, int16, uint16, int32 or float32.

        Raises
        ------
        HeaderDataError
            Naming the supported dtypes, for any other dtype.
        """
        self["type"] = DATA_TYPES.code_for_dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        """``(width, height, depth)``, plus ``frames`` when there is more than one."""
        dims = tuple(int(d) for d in self["dims"])
        return dims if dims[3] != 1 else dims[:3]

    def set_data_shape(self, shape: Any) -> None:
        """Set the dimensions (1 to 4 of them); voxel sizes go back to 1.

        Raises
        ------
        HeaderDataError
            For more than 4 dimensions or a length that is not in 1..2**31-1.
        """
        shape = tuple(int(n) for n in shape)
        if len(shape) > MAX_DIMS:
            raise TooManyDimensionsError(
                f"MGH images have at most {MAX_DIMS} dimensions (x, y, z, frames); "
                f"shape {shape} has {len(shape)}"
            )
        if any(not 0 < n < 2**31 for n in shape):
            raise HeaderDataError(f"MGH dimensions must be between 1 and 2**31-1, not {shape}")
        self["dims"] = (*shape, 1, 1, 1, 1)[:MAX_DIMS]
        self["delta"] = 1

    def get_zooms(self) -> tuple[float, ...]:
        """Voxel sizes in mm, plus TR (ms) as the 4th zoom of a 4-D image."""
        zooms = tuple(float(z) for z in self["delta"])
        if len(self.get_data_shape()) == 4:
            zooms += (float(self["tr"]),)
        return zooms

    def set_zooms(self, zooms: Any) -> None:
        """Set the voxel sizes (positive) and, for a 4-D image, TR (>= 0)."""
        zooms = [float(z) for z in zooms]
        ndim = len(self.get_data_shape())
        if len(zooms) != ndim:
            shape = self.get_data_shape()
            raise HeaderDataError(f"expected {ndim} zooms for shape {shape}, got {zooms}")
        if any(not z > 0 for z in zooms[:3]):
            raise HeaderDataError(f"MGH voxel sizes must be positive, not {zooms[:3]}")
        if len(zooms) == 4:
            if not zooms[3] >= 0:
                raise HeaderDataError(f"TR (4th zoom) must not be negative, not {zooms[3]}")
            self["tr"] = zooms[3]
        self["delta"] = zooms[:3]

    def get_xyzt_units(self) -> tuple[str, str]:
        """Units of the zooms: voxel sizes in mm, TR in milliseconds (fixed by the format)."""
        return "mm", "msec"

    def get_slope_inter(self) -> tuple[None, None]:
        """MGH stores no scaling."""
        return None, None

    def get_data_offset(self) -> int:
        """Where the data start: always 284."""
        return DATA_OFFSET

    def get_data_bytespervox(self) -> int:
        return self.get_data_dtype().itemsize

    def get_data_size(self) -> int:
        """Bytes the data occupy (an arbitrary-precision int: no overflow)."""
        size = self.get_data_bytespervox()
        for d in self["dims"]:
            size *= int(d)
        return size

    def get_footer_offset(self) -> int:
        """Where the footer starts: the data offset plus the data size."""
        return DATA_OFFSET + self.get_data_size()

    # -- scan parameters -------------------------------------------------------------
    @property
    def scan_parameters(self) -> dict[str, float]:
        """The footer: ``tr`` (ms), ``flip_angle`` (radians), ``te``, ``ti`` (ms), ``fov`` (mm)."""
        return {name: float(self[name]) for name in SCAN_PARAMETERS}

    def set_scan_parameters(self, **values: float) -> None:
        """Set footer values by name, e.g. ``hdr.set_scan_parameters(tr=2300, te=2.9)``."""
        unknown = set(values) - set(SCAN_PARAMETERS)
        if unknown:
            raise HeaderDataError(
                f"unknown MGH scan parameters {sorted(unknown)}; "
                f"known: {', '.join(SCAN_PARAMETERS)}"
            )
        for name, value in values.items():
            self[name] = value

    # -- geometry --------------------------------------------------------------------
    def get_vox2ras(self) -> np.ndarray:
        """Voxel (0-based) to scanner RAS affine."""
        return affines.vox2ras(self["dims"], self["delta"], self["Mdc"], self["Pxyz_c"])

    def get_vox2ras_tkr(self) -> np.ndarray:
        """Voxel to FreeSurfer "tkregister" RAS (surface coordinates), float32."""
        return affines.vox2ras_tkr(self["dims"], self["delta"])

    def get_ras2vox(self) -> np.ndarray:
        """Scanner RAS to voxel: the inverse of :meth:`get_vox2ras` (in float32, like it)."""
        vox2ras = self.get_vox2ras().astype(np.float32)
        try:
            inverse = np.linalg.inv(vox2ras)
        except np.linalg.LinAlgError:
            raise HeaderDataError(
                "the vox2ras affine cannot be inverted (direction cosines Mdc or voxel sizes "
                f"delta make it singular): {vox2ras.tolist()}"
            ) from None
        return inverse.astype(np.float64)

    get_affine = get_vox2ras
    get_best_affine = get_vox2ras

    def get_base_affine(self) -> np.ndarray:
        """The affine from shape and voxel sizes alone (the tkregister one), float64."""
        return self.get_vox2ras_tkr().astype(np.float64)

    def set_affine(self, affine: Any, shape: Any = None) -> None:
        """Store ``affine`` as ``delta``, ``Mdc`` and ``Pxyz_c`` (for ``shape``, default ours)."""
        spatial = self.get_data_shape()[:3] if shape is None else tuple(shape)[:3]
        delta, mdc, centre = affines.fields_from_affine(affine, spatial)
        self["delta"] = delta
        self["Mdc"] = mdc
        self["Pxyz_c"] = centre
        self["goodRASFlag"] = 1

    def set_default_geometry(self) -> None:
        """FreeSurfer's geometry for files without one: 1 mm, coronal LIA, centre at 0.

        FreeSurfer's reader ignores the geometry fields when goodRASFlag is
        0 or negative and uses x_r = -1, y_s = -1, z_a = 1 with unit voxels
        and the volume centre at RAS 0 (NiBabel differs: see the docs'
        differences page).
        """
        self["goodRASFlag"] = 1
        self["delta"] = 1
        self["Mdc"] = affines.FREESURFER_CORONAL_MDC
        self["Pxyz_c"] = 0

    def __str__(self) -> str:
        text = super().__str__()
        if self.tags or self.tags.tail:
            text += "\n  tags            : " + repr(self.tags)
        return text


def _tell(fileobj: BinaryIO) -> int:
    try:
        return int(fileobj.tell())
    except (OSError, AttributeError, ValueError):
        return 0


def _stream_size(fileobj: BinaryIO, base: int) -> int | None:
    """Bytes from ``base`` to the end of the (decompressed) stream, or None if unknown."""
    try:
        end = fileobj.seek(0, 2)
    except (OSError, AttributeError, ValueError):
        return None
    if end is None:
        end = _tell(fileobj)
    return int(end) - base


def _tr_in_ms(header: Any, tr: float) -> float:
    """The other header's 4th zoom in milliseconds, when its time unit is known."""
    factors = {"sec": 1000.0, "msec": 1.0, "usec": 0.001}
    try:
        unit = header.get_xyzt_units()[1]
    except (AttributeError, IndexError, TypeError, ValueError, HeaderDataError):
        return 0.0
    factor = factors.get(str(unit))
    return tr * factor if factor is not None and tr >= 0 else 0.0
