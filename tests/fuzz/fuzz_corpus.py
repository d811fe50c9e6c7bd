"""The files the fuzzer starts from: samples voxelio writes itself.

Every first-party format that is installed gets a few samples (byte
orders, data types, extensions or tags, 4-D, compressed or not), written
with :mod:`voxelio.demo`'s sample volume. Each sample records where its
header fields are, so that mutations can set them to extreme values.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from voxelio.demo import sample_affine, sample_volume


@dataclass
class Field:
    """One numeric or text header field: byte offset in the (decompressed) file, dtype."""

    name: str
    offset: int
    dtype: np.dtype


@dataclass
class Sample:
    """A sample file set.

    ``files`` maps each file's suffix (``'.nii'``, ``'.hdr'``...) to its
    plain (uncompressed) bytes; ``gzipped`` lists the suffixes stored
    compressed, all with ``codec`` (see :data:`CODECS`). ``header`` is the
    suffix of the file holding the
    header, ``fields`` its fields. ``mode`` is 'load' (``voxelio.load``
    on the file named ``sample`` + first suffix) or 'bytes'
    (``klass.from_bytes`` on the first file).
    """

    name: str
    files: dict[str, bytes]
    header: str
    fields: list[Field]
    gzipped: tuple[str, ...] = ()
    mode: str = "load"
    klass: str = ""
    extra: dict = field(default_factory=dict)
    codec: str = "gzip"

    def stored(self, suffix: str, content: bytes) -> tuple[str, bytes]:
        """The name suffix and bytes a file is written with (compressed if the sample says)."""
        if suffix in self.gzipped:
            name = suffix if suffix == ".mgz" else suffix + CODECS[self.codec]
            return name, compress(self.codec, content)
        return suffix, content


#: codec -> the suffix a compressed file gets. 'gzip' is one ordinary gzip
#: stream (other writers' .gz), 'blocked' voxelio's own blocked gzip (a member
#: table in FEXTRA subfields), 'bgzf' bgzip's blocked gzip (BC subfields).
CODECS = {"gzip": ".gz", "blocked": ".gz", "bgzf": ".gz", "bz2": ".bz2", "zstd": ".zst"}
#: uncompressed bytes per member of the blocked samples: small, so that even
#: the corpus's small files have several members to corrupt
BLOCK_SIZE = 256


def compress(codec: str, content: bytes) -> bytes:
    """``content`` compressed with ``codec`` (see :data:`CODECS`), reproducibly."""
    if codec == "gzip":
        return gzip.compress(content, 6, mtime=0)
    if codec == "blocked":
        from voxelio.codecs.writers import BlockedGzipWriter

        out = io.BytesIO()
        writer = BlockedGzipWriter(out, 6, block_size=BLOCK_SIZE)
        writer.write(content)
        writer.finish()
        writer.close()
        return out.getvalue()
    if codec == "bgzf":
        return bgzf(content)
    if codec == "bz2":
        return bz2.compress(content, 9)
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).compress(content)
    raise ValueError(codec)


def bgzf(content: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    """BGZF (bgzip's layout): members with a ``BC`` subfield holding the member size - 1."""
    parts = []
    for start in range(0, len(content), block_size):
        block = content[start : start + block_size]
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = comp.compress(block) + comp.flush()
        size = 18 + len(body) + 8
        head = struct.pack("<2sBBIBBH2sHH", b"\x1f\x8b", 8, 4, 0, 0, 255, 6, b"BC", 2, size - 1)
        parts.append(head + body + struct.pack("<II", zlib.crc32(block), len(block)))
    # bgzip ends every file with an empty member
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(b"") + comp.flush()
    head = struct.pack("<2sBBIBBH2sHH", b"\x1f\x8b", 8, 4, 0, 0, 255, 6, b"BC", 2,
                       18 + len(body) + 8 - 1)
    parts.append(head + body + struct.pack("<II", 0, 0))
    return b"".join(parts)


def _fields(header) -> list[Field]:
    """The fields of a struct header, with its byte order, as (offset, dtype) pairs."""
    dtype = header.structarr.dtype
    out = []
    for name in dtype.names:
        fdtype, offset = dtype.fields[name][:2]
        base = fdtype.base
        count = int(np.prod(fdtype.shape)) if fdtype.shape else 1
        for i in range(count):
            out.append(Field(f"{name}[{i}]" if count > 1 else name, offset + i * base.itemsize,
                             base))
    return out


def _single(name: str, img, suffix: str, gz: bool = False, codec: str = "gzip") -> Sample:
    raw = img.to_bytes()
    hdr = type(img.header).from_fileobj(_bytes_io(raw))
    return Sample(name, {suffix: raw}, suffix, _fields(hdr), (suffix,) if gz else (),
                  codec=codec)


def _pair(name: str, img, gz: bool = False, codec: str = "gzip") -> Sample:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(img.to_bytes())) as archive:
        files = {os.path.splitext(n)[1]: archive.read(n) for n in archive.namelist()}
    hdr = type(img.header).from_fileobj(_bytes_io(files[".hdr"]))
    ordered = {".hdr": files[".hdr"], ".img": files[".img"]}
    return Sample(name, ordered, ".hdr", _fields(hdr), (".hdr", ".img") if gz else (),
                  codec=codec)


def _bytes_io(raw: bytes):
    import io

    return io.BytesIO(raw)


def build_corpus() -> list[Sample]:
    """Samples of every installed first-party format (those not installed are left out)."""
    data = sample_volume((10, 12, 8))
    affine = sample_affine(data.shape)
    samples: list[Sample] = []
    samples += _nifti1_samples(data, affine)
    samples += _nifti2_samples(data, affine)
    # Analyze stores x flipped: the radiological affine is one it keeps
    samples += _analyze_samples(data, np.diag([-1.0, 1, 1, 1]) @ affine)
    samples += _mgh_samples(data, affine)
    samples += _nibabel_samples()
    return samples


#: NiBabel's shipped test files used as samples (read from the installed package)
NIBABEL_FILES = (
    "anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz", "functional.nii",
    "resampled_anat_moved.nii", "row_major.dconn.nii", "standard.nii.gz", "test.mgz",
)


def _nibabel_samples() -> list[Sample]:
    """Real files from other writers, when NiBabel (a test dependency) is installed."""
    import importlib.util

    spec = importlib.util.find_spec("nibabel")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "tests", "data")
    samples = []
    for name in NIBABEL_FILES:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            raw = f.read()
        compressed = name.endswith((".gz", ".mgz"))
        plain = gzip.decompress(raw) if compressed else raw
        suffix = ".mgz" if name.endswith(".mgz") else ".nii"
        sample = Sample(f"nibabel:{name}", {suffix: plain}, suffix, _header_fields(plain),
                        (suffix,) if compressed else ())
        samples.append(sample)
    return samples


def _header_fields(plain: bytes) -> list[Field]:
    """The fields of whichever first-party header reads these bytes (none if none does)."""
    import logging
    import warnings

    from voxelio.errors import VoxelioError

    classes = []
    for ref in ("voxelio_nifti1.header:Nifti1Header", "voxelio_nifti2.header:Nifti2Header",
                "voxelio_mgh.header:MGHHeader"):
        module, _, attr = ref.partition(":")
        try:
            classes.append(getattr(__import__(module, fromlist=[attr]), attr))
        except ImportError:
            continue
    for header_class in classes:
        logging.disable(logging.CRITICAL)  # the checks log what a wrong guess finds
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hdr = header_class.from_fileobj(_bytes_io(plain))
        except VoxelioError:
            continue
        finally:
            logging.disable(logging.NOTSET)
        fields = _fields(hdr)
        if hasattr(hdr, "get_footer_offset"):
            for fld in fields:
                if fld.offset >= 90:
                    fld.offset += hdr.get_footer_offset() - 90
        return fields
    return []


def _nifti1_samples(data, affine) -> list[Sample]:
    try:
        from voxelio_nifti1.extensions import Nifti1Extension
        from voxelio_nifti1.header import Nifti1Header
        from voxelio_nifti1.image import Nifti1Image, Nifti1Pair
    except ImportError:
        return []
    plain = Nifti1Image(data, affine)
    big = Nifti1Header(endianness=">")
    big.extensions.append(Nifti1Extension("comment", "a comment from the fuzzer's corpus"))
    big.extensions.append(Nifti1Extension(4, "<AFNI_attributes/>"))
    with_ext = Nifti1Image(data.astype(np.float32) / 7, affine, big)
    four_d = Nifti1Image(np.stack([data, data[::-1]], axis=-1), affine, dtype=np.int16)
    scaled = Nifti1Image(data.astype(np.float64) * 0.37, affine, dtype=np.int16)
    samples = [
        _single("nifti1", plain, ".nii"),
        _single("nifti1-gz", plain, ".nii", gz=True),
        _single("nifti1-ext-be", with_ext, ".nii"),
        _single("nifti1-ext-gz", with_ext, ".nii", gz=True),
        _single("nifti1-4d-gz", four_d, ".nii", gz=True),
        _single("nifti1-scaled", scaled, ".nii"),
        _pair("nifti1-pair", Nifti1Pair(data, affine)),
        _pair("nifti1-pair-gz", Nifti1Pair(data, affine, big.copy()), gz=True),
        # voxelio's own .nii.gz (blocked: a member table), bgzip's, bzip2, zstd
        _single("nifti1-4d-blocked", four_d, ".nii", gz=True, codec="blocked"),
        _single("nifti1-ext-bgzf", with_ext, ".nii", gz=True, codec="bgzf"),
        _single("nifti1-scaled-bz2", scaled, ".nii", gz=True, codec="bz2"),
        _pair("nifti1-pair-blocked", Nifti1Pair(four_d.get_fdata(), affine, dtype=np.int16),
              gz=True, codec="blocked"),
    ]
    if _have_zstd():
        samples.append(_single("nifti1-4d-zst", four_d, ".nii", gz=True, codec="zstd"))
    archive = _pair("nifti1-pair-bytes", Nifti1Pair(data, affine))
    archive.files = {".zip": Nifti1Pair(data, affine).to_bytes()}
    archive.mode, archive.klass = "bytes", "voxelio_nifti1.image:Nifti1Pair"
    archive.fields, archive.header = [], ".zip"
    samples.append(archive)
    return samples


def _nifti2_samples(data, affine) -> list[Sample]:
    try:
        from voxelio_nifti1.extensions import Nifti1Extension
        from voxelio_nifti2.header import Nifti2Header
        from voxelio_nifti2.image import Nifti2Image, Nifti2Pair
    except ImportError:
        return []
    img = Nifti2Image(data, affine)
    img.header.extensions.append(Nifti1Extension("comment", "NIfTI-2 comment"))
    big = Nifti2Header(endianness=">")
    big.extensions.append(Nifti1Extension(4, "<AFNI_attributes/>"))
    four_d = Nifti2Image(np.stack([data, data[::-1]], axis=-1).astype(np.float32) / 3, affine,
                         big)
    return [
        _single("nifti2-ext", img, ".nii"), _single("nifti2-gz", img, ".nii", gz=True),
        _single("nifti2-4d-be-blocked", four_d, ".nii", gz=True, codec="blocked"),
        _pair("nifti2-pair", Nifti2Pair(data, affine)),
    ]


def _have_zstd() -> bool:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def _analyze_samples(data, affine) -> list[Sample]:
    try:
        from voxelio_analyze.header import AnalyzeHeader
        from voxelio_analyze.image import AnalyzeImage
    except ImportError:
        return []
    big = AnalyzeHeader(endianness=">")
    samples = [
        _pair("analyze", AnalyzeImage(data, affine)),
        _pair("analyze-be-gz", AnalyzeImage(data.astype(np.float32), affine, big), gz=True),
    ]
    if _have_zstd():
        samples.append(_pair("analyze-zst", AnalyzeImage(data, affine), gz=True, codec="zstd"))
    archive = _pair("analyze-bytes", AnalyzeImage(data, affine))
    archive.files = {".zip": AnalyzeImage(data, affine).to_bytes()}
    archive.mode, archive.klass = "bytes", "voxelio_analyze.image:AnalyzeImage"
    archive.fields, archive.header = [], ".zip"
    samples.append(archive)
    return samples


def _mgh_samples(data, affine) -> list[Sample]:
    try:
        from voxelio_mgh.image import MGHImage
        from voxelio_mgh.tags import MGHTag
    except ImportError:
        return []
    img = MGHImage(data.astype(np.float32), affine)
    tagged = MGHImage(data.astype(np.uint8), affine)
    tagged.header.tags.append(MGHTag.from_text("PEDIR", "LR"))
    tagged.header.tags.append(MGHTag(42, bytes(range(200))))
    samples = [_single("mgh", img, ".mgh"), _single("mgh-tags", tagged, ".mgh")]
    for name, codec in (("mgz-tags", "gzip"), ("mgz-tags-blocked", "blocked")):
        mgz = _single(name, tagged, ".mgz", codec=codec)
        mgz.gzipped = (".mgz",)
        samples.append(mgz)
    for sample in samples:
        # the footer's fields follow the data, not the 90-byte header
        footer = MGHImage.header_class.from_fileobj(_bytes_io(sample.files[sample.header]))
        shift = footer.get_footer_offset() - 90
        for fld in sample.fields:
            if fld.offset >= 90:
                fld.offset += shift
    return samples
