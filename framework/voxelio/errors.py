"""The voxelio error hierarchy.

Every error that voxelio raises on purpose derives from :class:`VoxelioError`,
so ``except voxelio.VoxelioError`` catches all of them. The four classic
names (``ImageFileError``, ``HeaderDataError``, ``HeaderTypeError``,
``ImageDataError``) keep the meaning they have in the ``spatialimages`` model.
"""

from __future__ import annotations


class VoxelioError(Exception):
    """Base class of every error voxelio raises on purpose."""


class ImageFileError(VoxelioError):
    """A file (or file name) cannot be read or written as the requested image."""


class HeaderDataError(VoxelioError):
    """A header value is missing, malformed or inconsistent."""


class HeaderTypeError(VoxelioError):
    """A header operation was given an argument of the wrong kind."""


class ImageDataError(VoxelioError):
    """Image data cannot be read, represented or written as asked."""


class WriterError(ImageDataError):
    """Array data cannot be stored in the requested on-disk type without loss."""


class ConversionWarning(UserWarning):
    """A conversion or save could not keep some metadata (listed in the message).

    Parameters
    ----------
    message : str
        The warning's text.
    losses : sequence of str, optional
        What was not kept, one entry per item, as in an image's
        ``conversion_report``.

    Attributes
    ----------
    losses : tuple of str
        What was not kept (empty when the warning was made from text alone).
    """

    def __init__(self, message: str = "", losses: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(message)
        self.losses = tuple(losses)


__all__ = [
    "ConversionWarning",
    "HeaderDataError",
    "HeaderTypeError",
    "ImageDataError",
    "ImageFileError",
    "VoxelioError",
    "WriterError",
]
