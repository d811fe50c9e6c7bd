"""The voxelio conformance kit, for both NIfTI-1 formats."""

from typing import Any

import numpy as np

from voxelio.testing import FormatConformance


class _Nifti1Kit(FormatConformance):
    def make_image(self, dtype: Any) -> Any:
        # int64 needs an explicit dtype (voxelio-nifti1's int64 policy)
        dtype = np.dtype(dtype)
        img = super().make_image(np.int32 if dtype.kind in "iu" and dtype.itemsize == 8 else dtype)
        return self.image_class()(np.asarray(img.dataobj).astype(dtype), img.affine, dtype=dtype)


class TestNifti1Conformance(_Nifti1Kit):
    format_name = "nifti1"


class TestNifti1PairConformance(_Nifti1Kit):
    format_name = "nifti1-pair"
