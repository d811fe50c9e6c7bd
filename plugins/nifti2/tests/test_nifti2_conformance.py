"""The voxelio conformance kit, for both NIfTI-2 formats."""

from typing import Any

import numpy as np

from voxelio.testing import FormatConformance


class _Nifti2Kit(FormatConformance):
    def make_image(self, dtype: Any) -> Any:
        # int64 needs an explicit dtype (the int64 policy NIfTI-2 shares with NIfTI-1)
        dtype = np.dtype(dtype)
        img = super().make_image(np.int32 if dtype.kind in "iu" and dtype.itemsize == 8 else dtype)
        return self.image_class()(np.asarray(img.dataobj).astype(dtype), img.affine, dtype=dtype)


class TestNifti2Conformance(_Nifti2Kit):
    format_name = "nifti2"


class TestNifti2PairConformance(_Nifti2Kit):
    format_name = "nifti2-pair"
