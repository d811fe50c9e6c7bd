"""Which NiBabel API cases voxelio does not pass, and why.

Two kinds, and nothing else:

- xfails: cases that fail because of a deliberate difference documented in
  docs/differences.md. Each is ``xfail(strict=True)`` with a reason that
  names the difference by its heading on that page, so the day voxelio
  behaves like NiBabel the case fails until the entry goes.
- skips: cases that read NiBabel-private internals or test an API NiBabel
  itself marks expired.

Cases are named ``AdapterClass::test_name``; a parametrised test is named
without its parameters (every parameter set) or decided by a rule on its
parameters (:func:`_no_scaling_difference`).
"""

from __future__ import annotations

import numpy as np
import pytest

#: the documented deliberate differences: key -> heading in docs/differences.md
DIFFERENCES = {
    "clipping": "Saving never clips values silently",
    "infinity": "Infinite values are refused for integer types",
    "nan": "NaN is stored as the value nearest zero",
    "integral-floats": "Whole-number floats that fit are stored unscaled",
    "spm-slope": "Analyze images keep SPM's scale factor",
    "mgh-layout": "MGH headers are read and written in the file's layout",
    "native-order": "Data arrays come in native byte order",
    "negative-shape": "Negative shapes are refused",
    "check-messages": "Header checks say what they found, in voxelio's words",
    "nan-intercept": "A scale slope with an unusable intercept is reported",
    "index-message": "Indexing an image is refused in voxelio's words",
}

_HEADERS = ("TestAnalyzeHeader", "TestNifti1PairHeader", "TestNifti1SingleHeader")
_NIFTI_HEADERS = _HEADERS[1:]
_NIFTI_IMAGES = ("TestNifti1Pair", "TestNifti1Image")


def _cases(classes: tuple[str, ...], *tests: str) -> list[str]:
    return [f"{cls}::{test}" for cls in classes for test in tests]


#: case -> key of DIFFERENCES
XFAILS: dict[str, str] = {
    **dict.fromkeys(_cases(_NIFTI_IMAGES, "test_int_int_scaling", "test_write_scaling"),
                    "clipping"),
    **dict.fromkeys(_cases(("TestAnalyzeImage", *_NIFTI_IMAGES), "test_no_finite_values"),
                    "infinity"),
    **dict.fromkeys(_cases(_NIFTI_IMAGES, "test_nan2zero_range_ok"), "nan"),
    **dict.fromkeys(_cases(_NIFTI_HEADERS, "test_data_scaling"), "integral-floats"),
    "TestAnalyzeHeader::test_slope_inter": "spm-slope",
    "TestMGHHeader::test_binblock_is_file": "mgh-layout",
    "TestMGHHeader::test_to_from_fileobj": "mgh-layout",
    "TestMGHImage::test_load_mmap": "native-order",
    "TestMGHProxyAPI::test_asarray": "native-order",
    "TestMGHProxyAPI::test_array_interface_with_dtype": "native-order",
    **dict.fromkeys(_cases(_NIFTI_HEADERS, "test_freesurfer_large_vector_hack"),
                    "negative-shape"),
    **dict.fromkeys(
        _cases(_HEADERS, "test_checks", "test_log_checks", "test_pixdim_log_checks")
        + _cases(_NIFTI_HEADERS, "test_nifti_qfac_checks", "test_nifti_qsform_checks",
                 "test_magic_offset_checks")
        + ["TestMGHHeader::test_checks"],
        "check-messages",
    ),
    **dict.fromkeys(_cases(_NIFTI_HEADERS, "test_no_scaling_fixes"), "nan-intercept"),
    # the rest of test_slicer runs in test_nibabel_slicer_checks_on_voxelio_images
    **dict.fromkeys(_cases(("TestAnalyzeImage", *_NIFTI_IMAGES, "TestMGHImage"), "test_slicer"),
                    "index-message"),
}

_PRIVATE = "reads NiBabel-private internals: {}"
_EXPIRED = "tests get_data(), which NiBabel marks expired (removed in NiBabel 5.0)"

#: case -> why it is skipped (NiBabel-private internals or an expired API)
SKIPS: dict[str, str] = {
    **dict.fromkeys(
        _cases(_HEADERS, "test_logger_error"),
        _PRIVATE.format("NiBabel's global logger and error level (nibabel.imageglobals)"),
    ),
    **dict.fromkeys(_cases(_HEADERS, "test_datatype"), _PRIVATE.format("_data_type_codes")),
    "TestMGHHeader::test_bytes": _PRIVATE.format("_hdrdtype"),
    **dict.fromkeys(
        _cases(("TestAnalyzeAPI", "TestNifti1PairAPI", "TestNifti1API", "TestMGHAPI"),
               "test_get_data_deprecated")
        + _cases(("TestAnalyzeImage", *_NIFTI_IMAGES, "TestMGHImage"), "test_get_data"),
        _EXPIRED,
    ),
}


def _no_scaling_difference(params: dict) -> str | None:
    """The difference a ``test_no_scaling[out-in]`` case meets, if any.

    NiBabel's test writes values with the scaling set by hand and expects
    whatever does not fit the stored integer type to be clipped (and the
    infinite extremes of float inputs to become the type's limits).
    """
    out, inp = np.dtype(params["supported_dtype"]), np.dtype(params["in_dtype"])
    if out.kind not in "iu":
        return None
    if inp.kind == "f":
        return "infinity"
    lo, hi = np.iinfo(inp), np.iinfo(out)
    return "clipping" if lo.min < hi.min or lo.max > hi.max else None


def expected_difference(item: pytest.Item) -> str | None:
    """The key of the documented difference a collected case is expected to meet."""
    cls = item.cls.__name__ if item.cls is not None else ""
    if item.originalname == "test_no_scaling" and cls in _NIFTI_IMAGES:
        return _no_scaling_difference(item.callspec.params)
    return XFAILS.get(f"{cls}::{item.originalname}")


def skip_reason(item: pytest.Item) -> str | None:
    """Why a collected case is skipped, or None."""
    cls = item.cls.__name__ if item.cls is not None else ""
    return SKIPS.get(f"{cls}::{item.originalname}")


def xfail_reason(key: str) -> str:
    """The xfail reason for a difference: it names the heading in docs/differences.md."""
    return f"deliberate difference (docs/differences.md): {DIFFERENCES[key]}"


def apply(items: list[pytest.Item]) -> None:
    """Mark the collected NiBabel API cases listed above."""
    for item in items:
        if "nibabel_api" not in str(item.path) or item.cls is None:
            continue
        reason = skip_reason(item)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
            continue
        key = expected_difference(item)
        if key is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=xfail_reason(key)))
