"""Coverage-guided fuzzing of the parsers with atheris (optional).

Not part of ``make test``: install atheris (``pip install atheris``) and run::

    python tests/fuzz/atheris_headers.py -atheris_runs=200000 [CORPUS_DIR]
    python tests/fuzz/atheris_headers.py --target streams -max_total_time=600 CORPUS_DIR
    python tests/fuzz/atheris_headers.py --target streams --write-corpus CORPUS_DIR  # seeds

Targets (``--target``, default ``headers``):

``headers``  every first-party header reader (NIfTI-1, NIfTI-2, Analyze,
             MGH with its tags) and the NIfTI extension and MGH tag parsers
``streams``  the input as a compressed stream (codec recognised from its
             content: gzip single or blocked -- the member table --, bzip2,
             zstd): random-access reads at offsets the input chooses, then
             a read to the end
``images``   whole images from bytes (``from_bytes`` of the single-file
             classes), their data read whole when small

All work from bytes in memory; a voxelio error is the expected way to
refuse. Any other exception is a finding: atheris stops and saves the
input. Memory stays bounded by what the input holds (metadata limits are
lowered here so that the fuzzer does not spend its time on large inputs).
``--write-corpus`` writes the mutation fuzzer's samples (:mod:`fuzz_corpus`,
plain and compressed) as seed inputs: random bytes rarely make a valid
deflate stream, so the ``streams`` and ``images`` targets need them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings

import atheris
import numpy as np

with atheris.instrument_imports():
    # the codec modules voxelio imports lazily: here, so that atheris instruments them
    import voxelio.codecs.access
    import voxelio.codecs.decompressors
    import voxelio.codecs.gzip_layout
    import voxelio.codecs.gzip_reader
    import voxelio.codecs.opening
    import voxelio.codecs.reader
    import voxelio.codecs.seek_index
    import voxelio.codecs.sources
    import voxelio.limits
    from voxelio import codecs
    from voxelio.errors import VoxelioError
    from voxelio_analyze.header import AnalyzeHeader
    from voxelio_mgh.header import MGHHeader
    from voxelio_mgh.image import MGHImage
    from voxelio_mgh.tags import MGHTags
    from voxelio_nifti1.extensions import Nifti1Extensions
    from voxelio_nifti1.header import Nifti1Header, Nifti1PairHeader
    from voxelio_nifti1.image import Nifti1Image

    try:
        from voxelio_nifti2.header import Nifti2Header
        from voxelio_nifti2.image import Nifti2Image
    except ImportError:  # voxelio-nifti2 not installed
        Nifti2Header = Nifti2Image = None

HEADERS = [h for h in (Nifti1Header, Nifti1PairHeader, Nifti2Header, AnalyzeHeader, MGHHeader)
           if h is not None]
IMAGES = [c for c in (Nifti1Image, Nifti2Image, MGHImage) if c is not None]
#: images whose data take more than this are not read whole
READ_ALL_LIMIT = 8 << 20


def _parse_all(data: bytes) -> None:
    for header_class in HEADERS:
        with contextlib.suppress(VoxelioError):
            hdr = header_class.from_fileobj(io.BytesIO(data))
            hdr.get_data_shape(), hdr.get_data_dtype(), hdr.get_best_affine(), str(hdr)
    for order in "<>":
        with contextlib.suppress(VoxelioError):
            Nifti1Extensions.from_bytes(data, order)
    MGHTags.from_bytes(data)  # documented never to raise


def _read_stream(data: bytes) -> None:
    """The input as a compressed stream: two ranged reads it chooses, then to the end."""
    if len(data) < 4:
        return
    fdp = atheris.FuzzedDataProvider(data[:4])
    offsets = [fdp.ConsumeIntInRange(0, 1 << 16) for _ in range(2)]
    with contextlib.suppress(VoxelioError), codecs.open_indexed(io.BytesIO(data[4:])) as reader:
        for offset in offsets:
            reader.read_range(offset, 1 + offset % 5000)
        reader.seek(0)
        while reader.read(1 << 20):
            pass


def _load_images(data: bytes) -> None:
    for image_class in IMAGES:
        with contextlib.suppress(VoxelioError):
            img = image_class.from_bytes(data)
            if int(img.dataobj.nbytes) <= READ_ALL_LIMIT:
                np.asarray(img.dataobj)


TARGETS = {"headers": _parse_all, "streams": _read_stream, "images": _load_images}


def write_corpus(folder: str, target: str) -> int:
    """The mutation fuzzer's samples as seed inputs (plain and as stored); their count."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fuzz_corpus import build_corpus

    os.makedirs(folder, exist_ok=True)
    count = 0
    for sample in build_corpus():
        for suffix, content in sample.files.items():
            for variant in {content, sample.stored(suffix, content)[1]}:
                name = f"{sample.name.replace(':', '-')}-{count}{suffix}"
                with open(os.path.join(folder, name), "wb") as f:
                    # the streams target reads its offsets from 4 leading bytes
                    f.write(b"\0\0\0\0" + variant if target == "streams" else variant)
                count += 1
    return count


def main() -> None:
    argv = list(sys.argv)
    target = "headers"
    if "--target" in argv:
        at = argv.index("--target")
        target = argv[at + 1]
        del argv[at : at + 2]
    if "--write-corpus" in argv:
        folder = argv[argv.index("--write-corpus") + 1]
        print(f"{write_corpus(folder, target)} seed inputs for {target} in {folder}")
        return
    work = TARGETS[target]

    def test_one_input(data: bytes) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            work(data)

    voxelio.limits.METADATA_BYTES = 1 << 20
    voxelio.limits.METADATA_RECORDS = 1000
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
