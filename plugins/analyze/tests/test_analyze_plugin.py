"""The entry module: the spec, sniffing, and what `voxelio formats` shows."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.dtypes import RGB
from voxelio.registry.spec import parse_dtype
from voxelio_analyze.header import AnalyzeHeader
from voxelio_analyze.plugin import ANALYZE, sniff


def _block(order="<", ndim=3, size=348, magic=b""):
    hdr = AnalyzeHeader(endianness=order)
    if ndim:
        hdr.set_data_shape((2,) * ndim)
    block = bytearray(hdr.binaryblock)
    block[:4] = size.to_bytes(4, "little" if order == "<" else "big")
    if magic:
        block[344:348] = magic
    return bytes(block)


def test_entry_module_imports_neither_numpy_nor_reader_code():
    code = (
        "import sys, voxelio_analyze.plugin; "
        "bad = [m for m in ('numpy', 'voxelio_analyze.header', 'voxelio_analyze.image') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_spec_declares_exactly_the_supported_dtypes_and_suffixes():
    declared = {parse_dtype(name) for name in ANALYZE.dtypes}
    assert declared == {np.dtype(t) for t in ("u1", "i2", "i4", "f4", "f8", "c8")} | {RGB}
    for suffix in (".hdr", ".img", ".hdr.gz", ".img.gz", ".hdr.bz2", ".img.zst"):
        assert suffix in ANALYZE.suffixes


def test_voxelio_formats_lists_analyze():
    info = next(f for f in vx.formats() if f.name == "analyze")
    assert info.status == "ok"
    assert info.can_read and info.can_write
    assert ".hdr" in info.extensions and ".img" in info.extensions


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("ndim", [0, 1, 3, 7])
def test_sniff_says_yes_to_analyze_headers_in_either_byte_order(order, ndim):
    result = sniff(_block(order, ndim), "x.hdr")
    assert result.verdict == "yes", result.evidence
    assert ("little" if order == "<" else "big") in result.evidence


@pytest.mark.parametrize("magic", [b"ni1\x00", b"n+1\x00"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_sniff_says_no_to_nifti1_headers(magic, order):
    result = sniff(_block(order, magic=magic), "x.hdr")
    assert result.verdict == "no"
    assert "NIfTI-1" in result.evidence


@pytest.mark.parametrize("size", [540, 0, 347, 349])
def test_sniff_says_no_to_other_header_sizes_including_nifti2(size):
    assert sniff(_block(size=size), "x.hdr").verdict == "no"


def test_sniff_is_weak_for_truncated_or_odd_headers():
    assert sniff(_block()[:200], None).verdict == "weak"
    odd = bytearray(_block())
    odd[40:42] = (12).to_bytes(2, "little")
    assert sniff(bytes(odd), None).verdict == "weak"


def test_sniff_is_total():
    rng = np.random.default_rng(1)
    for n in [0, 1, 3, 4, 41, 42, 343, 348]:
        assert sniff(b"\x00" * n, None).verdict in ("yes", "weak", "no")
    for _ in range(300):
        prefix = rng.integers(0, 256, size=int(rng.integers(0, 400)), dtype=np.uint8).tobytes()
        assert sniff(prefix, None).verdict in ("yes", "weak", "no")


def test_a_nifti1_pair_is_never_loaded_as_analyze(tmp_path):
    (tmp_path / "x.hdr").write_bytes(_block(magic=b"ni1\x00"))
    (tmp_path / "x.img").write_bytes(b"\x00" * 64)
    try:
        img = vx.load(tmp_path / "x.hdr")
    except vx.VoxelioError:
        return
    assert img.format_name != "analyze"


def test_a_nifti2_header_is_never_loaded_as_analyze(tmp_path):
    (tmp_path / "x.hdr").write_bytes(_block(size=540) + b"\x00" * 192)
    (tmp_path / "x.img").write_bytes(b"\x00" * 64)
    try:
        img = vx.load(tmp_path / "x.hdr")
    except vx.VoxelioError:
        return
    assert img.format_name != "analyze"


def test_voxelio_sniff_ranks_analyze_first_for_its_own_files(tmp_path):
    from voxelio_analyze.image import AnalyzeImage

    AnalyzeImage(np.zeros((2, 3, 4), np.int16), None).to_filename(tmp_path / "x.hdr.gz")
    candidates = vx.sniff(os.fspath(tmp_path / "x.img.gz"))
    assert candidates[0].name == "analyze"
