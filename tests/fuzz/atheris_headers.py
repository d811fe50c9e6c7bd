"""Coverage-guided fuzzing of the header parsers with atheris (optional).

Not part of ``make test``: install atheris (``pip install atheris``) and run::

    python tests/fuzz/atheris_headers.py -atheris_runs=200000 [CORPUS_DIR]

Each input is parsed by every first-party header reader (NIfTI-1, NIfTI-2,
Analyze, MGH with its tags) and by the NIfTI extension and MGH tag
parsers, from bytes in memory; a voxelio error is the expected way to
refuse. Any other exception is a finding: atheris stops and saves the
input. Memory stays bounded by what the input holds (metadata limits are
lowered here so that the fuzzer does not spend its time on large inputs).
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings

import atheris

with atheris.instrument_imports():
    import voxelio.limits
    from voxelio.errors import VoxelioError
    from voxelio_analyze.header import AnalyzeHeader
    from voxelio_mgh.header import MGHHeader
    from voxelio_mgh.tags import MGHTags
    from voxelio_nifti1.extensions import Nifti1Extensions
    from voxelio_nifti1.header import Nifti1Header, Nifti1PairHeader

    try:
        from voxelio_nifti2.header import Nifti2Header
    except ImportError:  # voxelio-nifti2 not installed
        Nifti2Header = None

HEADERS = [h for h in (Nifti1Header, Nifti1PairHeader, Nifti2Header, AnalyzeHeader, MGHHeader)
           if h is not None]


def _parse_all(data: bytes) -> None:
    for header_class in HEADERS:
        with contextlib.suppress(VoxelioError):
            hdr = header_class.from_fileobj(io.BytesIO(data))
            hdr.get_data_shape(), hdr.get_data_dtype(), hdr.get_best_affine(), str(hdr)
    for order in "<>":
        with contextlib.suppress(VoxelioError):
            Nifti1Extensions.from_bytes(data, order)
    MGHTags.from_bytes(data)  # documented never to raise


def test_one_input(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _parse_all(data)


def main() -> None:
    voxelio.limits.METADATA_BYTES = 1 << 20
    voxelio.limits.METADATA_RECORDS = 1000
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
