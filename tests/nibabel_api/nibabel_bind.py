"""Point NiBabel's generic test modules at voxelio's error classes and helpers.

NiBabel's class-parameterised tests name NiBabel's own exception classes
(``HeaderDataError``, ``HeaderTypeError``, ``WriterError``,
``WrapStructError``) in ``pytest.raises``. A NiBabel user moving to voxelio
changes those imports to ``voxelio``'s names, so the adapters do the same:
they rebind the names in the test modules' namespaces (the test modules
only; NiBabel's library modules are untouched). Nothing else in NiBabel's
test code is changed or copied.
"""

from __future__ import annotations

import nibabel.freesurfer.tests.test_mghformat as nib_mgh
import nibabel.tests.test_analyze as nib_analyze
import nibabel.tests.test_image_api as nib_image_api
import nibabel.tests.test_nifti1 as nib_nifti1
import nibabel.tests.test_proxy_api as nib_proxy_api
import nibabel.tests.test_spatialimages as nib_spatialimages
import nibabel.tests.test_spm99analyze as nib_spm99
import nibabel.tests.test_wrapstruct as nib_wrapstruct

import voxelio.errors as vx_errors
from voxelio.dtypes import supported_np_types
from voxelio_nifti1.header import Nifti1Header

NIBABEL_TEST_MODULES = (
    nib_analyze,
    nib_image_api,
    nib_mgh,
    nib_nifti1,
    nib_proxy_api,
    nib_spatialimages,
    nib_spm99,
    nib_wrapstruct,
)

#: NiBabel's exception name -> the voxelio class a ported program catches instead
ERROR_NAMES = {
    "HeaderDataError": vx_errors.HeaderDataError,
    "HeaderTypeError": vx_errors.HeaderTypeError,
    "WriterError": vx_errors.WriterError,
    "WrapStructError": vx_errors.HeaderDataError,
}


#: module -> {name: voxelio object}: NiBabel functions and classes the tests
#: call on the objects under test, replaced by what a ported program uses
OTHER_NAMES = {
    # lists the numpy types a header or image can store (catches HeaderDataError)
    nib_analyze: {
        "supported_np_types": supported_np_types,
        # "is this a NIfTI-1 header" (int aliases are refused for NIfTI)
        "Nifti1Header": Nifti1Header,
    },
    # NiBabel's helper knows only NiBabel's classes; every voxelio image keeps
    # the three spatial axes first (the spatialimages model)
    nib_spatialimages: {"spatial_axes_first": lambda img: True},
}


def bind_names() -> None:
    """Rebind the exception (and helper) names of every adapted NiBabel test module."""
    for module in NIBABEL_TEST_MODULES:
        for name, cls in ERROR_NAMES.items():
            if name in vars(module):
                setattr(module, name, cls)
    for module, names in OTHER_NAMES.items():
        for name, obj in names.items():
            assert name in vars(module), f"{module.__name__} no longer uses {name}"
            setattr(module, name, obj)


bind_names()
