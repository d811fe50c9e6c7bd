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
