"""Save errors name what the caller asked to write, never a temporary or staged file."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import WriterError


@pytest.fixture
def img():
    return vx.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))


def test_a_chosen_dtype_the_format_does_not_store_is_a_writer_error_naming_the_target(
        tmp_path, img):
    target = tmp_path / "x.mgh"
    with pytest.raises(WriterError) as caught:
        vx.save(img, target, dtype="int64")
    assert str(caught.value) == (f"cannot save {target} as mgh: it does not store int64; "
                                 "it stores uint8, int32, float32, int16, uint16")
    # the same for an image already of the target's class
    with pytest.raises(WriterError, match="does not store float64"):
        vx.save(vx.MGHImage(np.zeros((2, 2, 2), np.float32), np.eye(4)), target, dtype="f8")
    assert not target.exists()


def test_colour_dtypes_are_listed_by_their_fields(tmp_path, img):
    with pytest.raises(WriterError) as caught:
        vx.save(img, tmp_path / "x.nii", dtype="float16")
    assert str(caught.value).endswith("complex128, RGBA")
    assert ", RGB, " in str(caught.value) and "('R'" not in str(caught.value)


@pytest.mark.parametrize("target_kind", ["bytesio", "named file object", "file url"])
def test_staged_saves_name_the_file_object_or_url(tmp_path, img, target_kind):
    if target_kind == "bytesio":
        target, shown, kwargs = io.BytesIO(), "the BytesIO object", {"format": "mgh"}
    elif target_kind == "named file object":
        target = open(tmp_path / "f.mgh", "wb")  # noqa: SIM115 (closed below)
        shown, kwargs = str(tmp_path / "f.mgh"), {}
    else:
        target = f"file://{tmp_path}/u.mgh"
        shown, kwargs = f"{tmp_path}/u.mgh", {}
    try:
        with pytest.raises(WriterError) as caught:
            vx.save(img, target, dtype="int64", **kwargs)
        with pytest.raises(TypeError) as unknown:
            vx.save(img, target, progress=True, **kwargs)
    finally:
        if hasattr(target, "close"):
            target.close()
    for err in (caught.value, unknown.value):
        assert f"cannot save {shown}" in str(err)
        assert "voxelio-save" not in str(err) and "image.mgh" not in str(err)


def test_a_pair_for_a_file_object_names_the_format_chosen(img):
    with pytest.raises(vx.ImageFileError, match="format 'nifti1-pair' writes 2 files"):
        vx.save(img, io.BytesIO(), format="nifti1-pair")


# Run with few file descriptors left: creating and opening the temporary files
# fails with EMFILE at different points depending on how many are free.
_OUT_OF_DESCRIPTORS = textwrap.dedent("""
    import os, resource, sys
    import numpy as np
    import voxelio as vx
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    img = vx.Nifti1Image(np.zeros((4, 4, 4), np.int16), np.eye(4))
    # imports and thread pools made before counting (the pair: its conversion's code)
    vx.save(img, "warm.nii.gz")
    vx.save(img, "warm.img")
    for target in ("t.nii.gz", "p.img"):
        for free in range(4):
            held = []
            try:
                while True:
                    held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                pass
            for _ in range(free):
                os.close(held.pop())
            try:
                vx.save(img, target)
                message = "ok"
            except Exception as err:
                message = f"{type(err).__name__}: {err}"
            for fd in held:
                os.close(fd)
            print(target, free, message)
""")


def test_out_of_file_descriptors_names_the_target_not_the_temporary_file(tmp_path):
    done = subprocess.run([sys.executable, "-c", _OUT_OF_DESCRIPTORS], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    failures = [line for line in lines if not line.endswith(" ok")]
    assert failures and len(failures) < len(lines)
    for line in failures:
        assert "Too many open files" in line, line
        assert "voxelio-tmp" not in line and str(tmp_path) not in line, line
        target = line.split()[0]
        names = ("'p.img'", "'p.hdr'") if target == "p.img" else ("'t.nii.gz'",)
        assert any(f"cannot save {n}" in line for n in names), line
    # no temporary file is left behind by any of the failed saves
    assert not [p.name for p in tmp_path.iterdir() if "voxelio-tmp" in p.name]
