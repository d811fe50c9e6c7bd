"""Stand-in image classes that misbehave, to test the fuzz pool's classifier."""

from __future__ import annotations

import os
import time

from voxelio.errors import ImageFileError


class Hang:
    @classmethod
    def from_bytes(cls, data: bytes) -> None:
        time.sleep(3600)


class Die:
    @classmethod
    def from_bytes(cls, data: bytes) -> None:
        os._exit(3)


class Greedy:
    @classmethod
    def from_bytes(cls, data: bytes) -> None:
        bytearray(8 << 30)


class Fine:
    @classmethod
    def from_bytes(cls, data: bytes) -> None:
        raise ImageFileError("refused")


class _LyingProxy:
    """Reads whole correctly, but every index gives zeros."""

    shape = (4, 5, 6)
    nbytes = 4 * 5 * 6 * 2

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        return np.arange(1, 121, dtype=np.int16).reshape(self.shape)

    def __getitem__(self, index):
        import numpy as np

        return np.zeros(self.shape, np.int16)[index]


class _LyingHeader:
    def copy(self):
        return self

    def get_data_dtype(self):
        import numpy as np

        return np.dtype(np.int16)


class _LyingImage:
    shape = _LyingProxy.shape
    dataobj = _LyingProxy()
    header = _LyingHeader()

    @property
    def affine(self):
        import numpy as np

        return np.eye(4)


class Liar:
    @classmethod
    def from_bytes(cls, data: bytes) -> _LyingImage:
        return _LyingImage()
