"""MGH/MGZ against NiBabel (the reference reader/writer) and NIfTI-1 conversion.

NiBabel is a test-time oracle only. Its shipped ``test.mgz`` is read from
the installed package, never copied into the repository.
"""

from __future__ import annotations

import gzip
import os

import nibabel as nib
import numpy as np
import pytest

import voxelio as vx
import voxelio_mgh  # noqa: F401  (the plugin under test must be installed)
from voxelio_mgh.image import MGHImage

DTYPES = [np.uint8, np.int16, np.uint16, np.int32, np.float32]
AFFINE = np.array([[-1.5, 0.1, 0, 40], [0, 0.2, 2.0, -30], [0.1, -1.0, 0, 22], [0, 0, 0, 1]])


@pytest.fixture(scope="module")
def test_mgz() -> str:
    from nibabel.testing import data_path

    return os.path.join(data_path, "test.mgz")


def floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def sample(dtype, shape):
    rng = np.random.default_rng(42)
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -30000), min(info.max, 30000), size=shape).astype(dtype)


# -- NiBabel's shipped file ---------------------------------------------------------------
def test_shipped_test_mgz_matches_nibabel(test_mgz):
    ours, theirs = vx.load(test_mgz), nib.load(test_mgz)
    assert isinstance(ours, MGHImage)
    assert ours.shape == theirs.shape == (3, 4, 5, 2)
    np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    assert ours.header.get_zooms() == pytest.approx(floats(theirs.header.get_zooms()))
    for name in ("tr", "flip_angle", "te", "ti", "fov"):
        assert float(ours.header[name]) == float(theirs.header[name])
    np.testing.assert_array_equal(ours.header.get_vox2ras_tkr(), theirs.header.get_vox2ras_tkr())
    np.testing.assert_array_equal(ours.header.get_ras2vox(), theirs.header.get_ras2vox())
    assert ours.header.binaryblock == theirs.header.binaryblock


def test_shipped_test_mgz_tags(test_mgz):
    tags = vx.load(test_mgz).header.tags
    assert [(t.tag_id, t.name) for t in tags] == [(41, "PEDIR"), (42, "MRI_FRAME")]
    assert tags.get("PEDIR").value == "UNKNOWN"
    assert len(tags.get(42).data) == 22400
    assert tags.tail == b""


def test_shipped_test_mgz_round_trip_is_byte_exact(test_mgz, tmp_path):
    with open(test_mgz, "rb") as f:
        original = gzip.decompress(f.read())
    vx.save(vx.load(test_mgz), tmp_path / "copy.mgz")
    assert gzip.decompress((tmp_path / "copy.mgz").read_bytes()) == original
    vx.save(vx.load(test_mgz), tmp_path / "copy.mgh")
    assert (tmp_path / "copy.mgh").read_bytes() == original
    # NiBabel drops the tags: everything up to them is the same
    nib.save(nib.load(test_mgz), tmp_path / "nib.mgh")
    assert original.startswith((tmp_path / "nib.mgh").read_bytes())


# -- both ways ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 6, 7), (4, 5, 6, 3)])
@pytest.mark.parametrize("suffix", [".mgh", ".mgz"])
def test_voxelio_writes_nibabel_reads(tmp_path, dtype, shape, suffix):
    data = sample(dtype, shape)
    img = MGHImage(data, AFFINE)
    img.header.set_scan_parameters(tr=2300, flip_angle=0.15, te=2.9, ti=900, fov=256)
    path = tmp_path / f"v{suffix}"
    vx.save(img, path)
    theirs = nib.load(path)
    assert theirs.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
    np.testing.assert_array_equal(np.asanyarray(theirs.dataobj), data)
    np.testing.assert_allclose(theirs.affine, AFFINE, atol=1e-5)
    np.testing.assert_array_equal(theirs.affine, vx.load(path).affine)
    assert float(theirs.header["te"]) == pytest.approx(2.9)
    assert theirs.header.get_zooms() == pytest.approx(vx.load(path).header.get_zooms())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 6, 7), (4, 5, 6, 3)])
@pytest.mark.parametrize("suffix", [".mgh", ".mgz"])
def test_nibabel_writes_voxelio_reads(tmp_path, dtype, shape, suffix):
    data = sample(dtype, shape)
    theirs = nib.MGHImage(data, AFFINE)
    theirs.header["tr"] = 1500
    theirs.header["flip_angle"] = 0.5
    path = tmp_path / f"n{suffix}"
    nib.save(theirs, path)
    ours = vx.load(path)
    assert ours.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
    np.testing.assert_array_equal(np.asarray(ours.dataobj), data)
    np.testing.assert_array_equal(ours.affine, nib.load(path).affine)
    assert ours.header.scan_parameters["tr"] == 1500
    assert ours.header.scan_parameters["flip_angle"] == pytest.approx(0.5)
    assert ours.header.get_zooms() == pytest.approx(floats(nib.load(path).header.get_zooms()))


def test_same_bytes_as_nibabel_for_the_same_image(tmp_path):
    data = sample(np.int16, (4, 5, 6))
    nib.save(nib.MGHImage(data, AFFINE), tmp_path / "n.mgh")
    vx.save(MGHImage(data, AFFINE), tmp_path / "v.mgh")
    assert (tmp_path / "v.mgh").read_bytes() == (tmp_path / "n.mgh").read_bytes()


@pytest.mark.parametrize("flag", [0, -1])
def test_good_ras_flag_not_positive_follows_freesurfer(tmp_path, flag):
    """FreeSurfer's mghRead: coronal LIA (x_r=-1, y_s=-1, z_a=1), 1 mm, centre at RAS 0."""
    shape = (4, 6, 8)
    img = MGHImage(sample(np.float32, shape), AFFINE)
    raw = bytearray(img.to_bytes())
    raw[28:30] = int(flag).to_bytes(2, "big", signed=True)
    path = tmp_path / "noras.mgh"
    path.write_bytes(bytes(raw))
    ours = vx.load(path)
    expected = np.array([[-1.0, 0, 0, 2], [0, 0, 1, -4], [0, -1, 0, 3], [0, 0, 0, 1]])
    np.testing.assert_array_equal(ours.affine, expected)
    assert vx.aff2axcodes(ours.affine) == ("L", "I", "A")
    centre = ours.affine @ [*(np.array(shape) / 2), 1]
    np.testing.assert_array_equal(centre[:3], 0)
    assert ours.header.get_zooms() == (1.0, 1.0, 1.0)
    # a documented difference: NiBabel uses the stored fields (flag 0) or zeros (flag -1)
    assert not np.array_equal(nib.load(path).affine, ours.affine)


# -- a .mgz load inflates once, into the array a full read returns ------------------------
def load_and_read(path, read):
    """``read(vx.load(path))`` and the peak of memory traced meanwhile."""
    import tracemalloc

    read(vx.load(path))  # modules imported on first use are not the read's memory
    tracemalloc.start()
    try:
        result = read(vx.load(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_nibabel_written_mgz_full_read_is_the_buffer_the_load_inflated(
    tmp_path, codec_mode, dtype
):
    from voxelio.codecs import gzip_reader, seek_index

    data = sample(dtype, (128, 128, 128))
    path = tmp_path / "n.mgz"
    nib.save(nib.MGHImage(data, AFFINE), path)  # one gzip stream, as FreeSurfer writes
    ours, peak = load_and_read(path, lambda img: np.asarray(img.dataobj))
    np.testing.assert_array_equal(ours, np.asarray(nib.load(path).dataobj))
    assert ours.dtype == np.dtype(dtype) and ours.flags.f_contiguous and ours.flags.writeable
    # the data once (the load's pass to the footer inflated into the array returned),
    # plus the compressed input buffer and small change; was twice the data. The
    # standard library's pass leaves seek points (a zlib state each) for later reads.
    extra = gzip_reader.INPUT_BUFFER + 512 * 1024
    if codec_mode == "stdlib":
        extra += data.nbytes // seek_index.MIN_SPACING * 80_000
    assert peak < data.nbytes + extra
    fdata, peak = load_and_read(path, lambda img: img.get_fdata())
    np.testing.assert_array_equal(fdata, nib.load(path).get_fdata())
    assert peak < fdata.nbytes + data.nbytes + extra


def test_single_stream_mgz_with_tags_reads_like_nibabel(tmp_path, codec_mode):
    from voxelio_mgh.tags import MGHTag

    data = sample(np.int16, (40, 30, 20, 3))
    img = MGHImage(data, AFFINE)
    img.header.tags.append(MGHTag.from_text("PEDIR", "COL"))
    img.header.tags.append(MGHTag(43, b"\x40\x08" + bytes(6)))
    path = tmp_path / "tagged.mgz"
    vx.save(img, path, gzip_blocks=False)
    ours = vx.load(path)
    assert [t.tag_id for t in ours.header.tags] == [41, 43]
    assert ours.header.tags.get("PEDIR").value == "COL"
    read = np.asarray(ours.dataobj)
    np.testing.assert_array_equal(read, data)
    np.testing.assert_array_equal(read, np.asarray(nib.load(path).dataobj))
    # after the full read took the buffer, partial reads inflate again, correctly
    np.testing.assert_array_equal(ours.dataobj[..., 1], data[..., 1])


def test_shipped_test_mgz_in_both_codec_modes(test_mgz, codec_mode):
    ours, theirs = vx.load(test_mgz), nib.load(test_mgz)
    np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(theirs.dataobj))
    np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())
    assert len(ours.header.tags.get(42).data) == 22400


@pytest.mark.parametrize("damage", ["cut", "cut, size still stated", "corrupt", "crc"])
def test_damaged_nibabel_written_mgz_gives_voxelio_errors(tmp_path, codec_mode, damage):
    data = sample(np.int16, (64, 64, 30))
    good = tmp_path / "good.mgz"
    nib.save(nib.MGHImage(data, AFFINE), good)
    raw = bytearray(good.read_bytes())
    if damage == "cut":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "cut, size still stated":
        raw = raw[: len(raw) * 2 // 3] + raw[-4:]
    elif damage == "corrupt":
        mid = len(raw) // 2
        raw[mid : mid + 64] = bytes(b ^ 0x5A for b in raw[mid : mid + 64])
    else:
        raw[-8] ^= 0xFF
    path = tmp_path / "bad.mgz"
    path.write_bytes(bytes(raw))
    with pytest.raises(vx.ImageFileError, match="truncated|corrupt"):
        np.asarray(vx.load(path).dataobj)


# -- NIfTI-1 conversion ----------------------------------------------------------------------
@pytest.fixture
def nifti1():
    import voxelio_nifti1

    return voxelio_nifti1


def run_cli(*argv: str) -> int:
    from voxelio.cli import main

    return main(list(argv))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", [".nii", ".nii.gz"])
def test_mgh_to_nifti_keeps_voxels_and_world(nifti1, tmp_path, dtype, target):
    data = sample(dtype, (4, 5, 6))
    src = tmp_path / "src.mgz"
    vx.save(MGHImage(data, AFFINE), src)
    mgh = vx.load(src)
    vx.save(mgh, tmp_path / f"api{target}")
    assert run_cli("convert", str(src), str(tmp_path / f"cli{target}")) == 0
    for out in (tmp_path / f"api{target}", tmp_path / f"cli{target}"):
        back = vx.load(out)
        assert back.format_name == "nifti1"
        np.testing.assert_array_equal(np.asarray(back.dataobj), data)
        np.testing.assert_allclose(back.affine, mgh.affine, rtol=1e-6, atol=1e-5)
        np.testing.assert_array_equal(np.asanyarray(nib.load(out).dataobj), data)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nifti_to_mgh_keeps_voxels_and_world(nifti1, tmp_path, dtype):
    data = sample(dtype, (4, 5, 6, 2))
    src = tmp_path / "src.nii.gz"
    nib.save(nib.Nifti1Image(data, AFFINE), src)
    nii = vx.load(src)
    vx.save(nii, tmp_path / "api.mgz")
    assert run_cli("convert", str(src), str(tmp_path / "cli.mgh")) == 0
    for out in (tmp_path / "api.mgz", tmp_path / "cli.mgh"):
        back = vx.load(out)
        assert isinstance(back, MGHImage)
        assert back.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
        np.testing.assert_array_equal(np.asarray(back.dataobj), data)
        np.testing.assert_allclose(back.affine, nii.affine, rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(nib.load(out).affine, nib.load(src).affine, atol=1e-5)


def test_float64_nifti_to_mgh_needs_a_dtype(nifti1, tmp_path):
    data = sample(np.float32, (3, 4, 5)).astype(np.float64)
    src = tmp_path / "f64.nii"
    nib.save(nib.Nifti1Image(data, AFFINE), src)
    with pytest.raises(vx.HeaderDataError) as err:
        vx.save(vx.load(src), tmp_path / "out.mgz")
    text = str(err.value)
    assert "float64" in text and "float32" in text and "dtype" in text
    assert not (tmp_path / "out.mgz").exists()
    assert run_cli("convert", str(src), str(tmp_path / "cli.mgz")) != 0
    vx.save(vx.load(src), tmp_path / "out.mgz", dtype="float32")
    assert run_cli("convert", str(src), str(tmp_path / "cli.mgz"), "--dtype", "float32") == 0
    for out in (tmp_path / "out.mgz", tmp_path / "cli.mgz"):
        np.testing.assert_array_equal(vx.load(out).get_fdata(), data)
