"""Code tables of the NIfTI-1 standard (nifti1.h).

Data types, transform codes, units, slice orders, intents and extension
codes, each as a :class:`voxelio.codes.CodeTable`. The tables a load does not
consult (units, slice orders, intents, extension codes) take their entries
from generators, so their entries are made when a table is first used.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from voxelio.plugin import Code, CodeTable, DtypeTable

from . import _layout


def _extended_float(kind: str) -> type | None:
    """numpy's long double type, only where it is IEEE binary128 (113-bit significand)."""
    if kind == "f":
        t = np.longdouble
        ok = np.dtype(t).itemsize == 16 and np.finfo(t).nmant == 112
    else:
        t = np.clongdouble
        ok = np.dtype(t).itemsize == 32 and np.finfo(np.longdouble).nmant == 112
    return t if ok else None


#: numpy type of NIFTI_TYPE_FLOAT128, or None where the platform lacks binary128
FLOAT128 = _extended_float("f")
#: numpy type of NIFTI_TYPE_COMPLEX256, or None where the platform lacks binary128
COMPLEX256 = _extended_float("c")

#: NIfTI-1 data type codes (the rows of :data:`voxelio_nifti1._layout.DATA_TYPES`)
DATATYPES = DtypeTable.from_rows(
    "NIfTI-1 data type",
    _layout.DATA_TYPES,
    values={"float128": FLOAT128, "complex256": COMPLEX256},
)

XFORM_CODES = CodeTable(
    "NIfTI-1 transform code",
    [
        Code(0, "unknown", None, ("NIFTI_XFORM_UNKNOWN",)),
        Code(1, "scanner", None, ("NIFTI_XFORM_SCANNER_ANAT",)),
        Code(2, "aligned", None, ("NIFTI_XFORM_ALIGNED_ANAT",)),
        Code(3, "talairach", None, ("NIFTI_XFORM_TALAIRACH",)),
        Code(4, "mni", None, ("NIFTI_XFORM_MNI_152",)),
        Code(5, "template", None, ("NIFTI_XFORM_TEMPLATE_OTHER",)),
    ],
)


def _unit_entries() -> Iterator[Code]:
    """The entries of :data:`UNIT_CODES` (read when the table is first used)."""
    yield from [
        Code(0, "unknown", None, ("NIFTI_UNITS_UNKNOWN",)),
        Code(1, "meter", None, ("NIFTI_UNITS_METER", "m")),
        Code(2, "mm", None, ("NIFTI_UNITS_MM",)),
        Code(3, "micron", None, ("NIFTI_UNITS_MICRON", "um")),
        Code(8, "sec", None, ("NIFTI_UNITS_SEC", "s")),
        Code(16, "msec", None, ("NIFTI_UNITS_MSEC", "ms")),
        Code(24, "usec", None, ("NIFTI_UNITS_USEC", "us")),
        Code(32, "hz", None, ("NIFTI_UNITS_HZ",)),
        Code(40, "ppm", None, ("NIFTI_UNITS_PPM",)),
        Code(48, "rads", None, ("NIFTI_UNITS_RADS",)),
    ]


UNIT_CODES = CodeTable("NIfTI-1 unit code", _unit_entries())
#: unit codes of the spatial axes (bits 0-2 of xyzt_units)
SPACE_UNITS = (0, 1, 2, 3)
#: unit codes of the time axis (bits 3-5 of xyzt_units)
TIME_UNITS = (0, 8, 16, 24, 32, 40, 48)


def _slice_order_entries() -> Iterator[Code]:
    """The entries of :data:`SLICE_ORDER_CODES` (read when the table is first used)."""
    yield from [
        Code(0, "unknown", None),
        Code(1, "sequential increasing", None, ("seq inc", "NIFTI_SLICE_SEQ_INC")),
        Code(2, "sequential decreasing", None, ("seq dec", "NIFTI_SLICE_SEQ_DEC")),
        Code(3, "alternating increasing", None, ("alt inc", "NIFTI_SLICE_ALT_INC")),
        Code(4, "alternating decreasing", None, ("alt dec", "NIFTI_SLICE_ALT_DEC")),
        Code(5, "alternating increasing 2", None, ("alt inc 2", "NIFTI_SLICE_ALT_INC2")),
        Code(6, "alternating decreasing 2", None, ("alt dec 2", "NIFTI_SLICE_ALT_DEC2")),
    ]


SLICE_ORDER_CODES = CodeTable("NIfTI-1 slice order code", _slice_order_entries())


def _intent(code: int, label: str, params: tuple[str, ...], *names: str) -> Code:
    return Code(code, label, params, names)


def _intent_entries() -> Iterator[Code]:
    """The entries of :data:`INTENT_CODES` (read when the table is first used)."""
    yield from [
        _intent(0, "none", (), "NIFTI_INTENT_NONE"),
        _intent(2, "correlation", ("degrees of freedom",), "NIFTI_INTENT_CORREL"),
        _intent(3, "t test", ("degrees of freedom",), "NIFTI_INTENT_TTEST"),
        _intent(4, "f test", ("numerator dof", "denominator dof"), "NIFTI_INTENT_FTEST"),
        _intent(5, "z score", (), "NIFTI_INTENT_ZSCORE"),
        _intent(6, "chi2", ("degrees of freedom",), "NIFTI_INTENT_CHISQ"),
        _intent(7, "beta", ("a", "b"), "NIFTI_INTENT_BETA"),
        _intent(8, "binomial", ("trials", "probability per trial"), "NIFTI_INTENT_BINOM"),
        _intent(9, "gamma", ("shape", "scale"), "NIFTI_INTENT_GAMMA"),
        _intent(10, "poisson", ("mean",), "NIFTI_INTENT_POISSON"),
        _intent(11, "normal", ("mean", "standard deviation"), "NIFTI_INTENT_NORMAL"),
        _intent(
            12, "non central f test",
            ("numerator dof", "denominator dof", "numerator noncentrality"),
            "NIFTI_INTENT_FTEST_NONC",
        ),
        _intent(13, "non central chi2", ("dof", "noncentrality"), "NIFTI_INTENT_CHISQ_NONC"),
        _intent(14, "logistic", ("location", "scale"), "NIFTI_INTENT_LOGISTIC"),
        _intent(15, "laplace", ("location", "scale"), "NIFTI_INTENT_LAPLACE"),
        _intent(16, "uniform", ("lower end", "upper end"), "NIFTI_INTENT_UNIFORM"),
        _intent(17, "non central t test", ("dof", "noncentrality"), "NIFTI_INTENT_TTEST_NONC"),
        _intent(18, "weibull", ("location", "scale", "power"), "NIFTI_INTENT_WEIBULL"),
        _intent(19, "chi", ("dof",), "NIFTI_INTENT_CHI"),
        _intent(20, "inverse gaussian", ("mu", "lambda"), "NIFTI_INTENT_INVGAUSS"),
        _intent(21, "extreme value 1", ("location", "scale"), "NIFTI_INTENT_EXTVAL"),
        _intent(22, "p value", (), "NIFTI_INTENT_PVAL"),
        _intent(23, "log p value", (), "NIFTI_INTENT_LOGPVAL"),
        _intent(24, "log10 p value", (), "NIFTI_INTENT_LOG10PVAL"),
        _intent(1001, "estimate", (), "NIFTI_INTENT_ESTIMATE"),
        _intent(1002, "label", (), "NIFTI_INTENT_LABEL"),
        _intent(1003, "neuroname", (), "NIFTI_INTENT_NEURONAME"),
        _intent(1004, "general matrix", ("M", "N"), "NIFTI_INTENT_GENMATRIX"),
        _intent(1005, "symmetric matrix", ("M",), "NIFTI_INTENT_SYMMATRIX"),
        _intent(1006, "displacement vector", (), "NIFTI_INTENT_DISPVECT"),
        _intent(1007, "vector", (), "NIFTI_INTENT_VECTOR"),
        _intent(1008, "pointset", (), "NIFTI_INTENT_POINTSET"),
        _intent(1009, "triangle", (), "NIFTI_INTENT_TRIANGLE"),
        _intent(1010, "quaternion", (), "NIFTI_INTENT_QUATERNION"),
        _intent(1011, "dimensionless", (), "NIFTI_INTENT_DIMLESS"),
        _intent(
            2001, "time series", (), "NIFTI_INTENT_TIME_SERIES", "NIFTI_INTENT_TIMESERIES"
        ),
        _intent(2002, "node index", (), "NIFTI_INTENT_NODE_INDEX"),
        _intent(2003, "rgb vector", (), "NIFTI_INTENT_RGB_VECTOR"),
        _intent(2004, "rgba vector", (), "NIFTI_INTENT_RGBA_VECTOR"),
        _intent(2005, "shape", (), "NIFTI_INTENT_SHAPE"),
        # FSL's codes (FNIRT and TOPUP coefficient files)
        _intent(2006, "fnirt disp field", (), "FSL_FNIRT_DISPLACEMENT_FIELD"),
        _intent(2007, "fnirt cubic spline coef", (), "FSL_CUBIC_SPLINE_COEFFICIENTS"),
        _intent(2008, "fnirt dct coef", (), "FSL_DCT_COEFFICIENTS"),
        _intent(2009, "fnirt quad spline coef", (), "FSL_QUADRATIC_SPLINE_COEFFICIENTS"),
        _intent(2016, "topup cubic spline coef", (), "FSL_TOPUP_CUBIC_SPLINE_COEFFICIENTS"),
        _intent(
            2017, "topup quad spline coef", (), "FSL_TOPUP_QUADRATIC_SPLINE_COEFFICIENTS"
        ),
        _intent(2018, "topup field", (), "FSL_TOPUP_FIELD"),
    ]


#: intent codes; each entry's ``value`` names its parameters (p1, p2, p3)
INTENT_CODES = CodeTable("NIfTI-1 intent code", _intent_entries())


def _extension_entries() -> Iterator[Code]:
    """The entries of :data:`EXTENSION_CODES` (read when the table is first used)."""
    yield from [
        Code(0, "ignore", None, ("NIFTI_ECODE_IGNORE",)),
        Code(2, "dicom", None, ("NIFTI_ECODE_DICOM",)),
        Code(4, "afni", "text", ("NIFTI_ECODE_AFNI",)),
        Code(6, "comment", "text", ("NIFTI_ECODE_COMMENT",)),
        Code(8, "xcede", "text", ("NIFTI_ECODE_XCEDE",)),
        Code(10, "jimdiminfo", None, ("NIFTI_ECODE_JIMDIMINFO",)),
        Code(12, "workflow_fwds", None, ("NIFTI_ECODE_WORKFLOW_FWDS",)),
        Code(14, "freesurfer", None, ("NIFTI_ECODE_FREESURFER",)),
        Code(16, "pypickle", None, ("NIFTI_ECODE_PYPICKLE",)),
        Code(18, "mind_ident", None, ("NIFTI_ECODE_MIND_IDENT",)),
        Code(20, "b_value", None, ("NIFTI_ECODE_B_VALUE",)),
        Code(22, "spherical_direction", None, ("NIFTI_ECODE_SPHERICAL_DIRECTION",)),
        Code(24, "dt_component", None, ("NIFTI_ECODE_DT_COMPONENT",)),
        Code(26, "shc_degreeorder", None, ("NIFTI_ECODE_SHC_DEGREEORDER",)),
        Code(28, "voxbo", None, ("NIFTI_ECODE_VOXBO",)),
        Code(30, "caret", "text", ("NIFTI_ECODE_CARET",)),
        Code(32, "cifti", "text", ("NIFTI_ECODE_CIFTI",)),
        Code(34, "variable_frame_timing", None, ("NIFTI_ECODE_VARIABLE_FRAME_TIMING",)),
        Code(36, "unassigned", None),
        Code(38, "eval", None, ("NIFTI_ECODE_EVAL",)),
        Code(40, "matlab", None, ("NIFTI_ECODE_MATLAB",)),
        Code(42, "quantiphyse", None, ("NIFTI_ECODE_QUANTIPHYSE",)),
        Code(44, "mrs", "text", ("NIFTI_ECODE_MRS",)),
    ]


EXTENSION_CODES = CodeTable("NIfTI extension code", _extension_entries())
