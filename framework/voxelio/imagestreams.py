"""Images to and from streams and URLs (what ``to_stream``/``from_url`` do).

A format stored in one file is written to, and read from, the stream
directly: the stream holds exactly the file's bytes. A format stored in
several files (header + image pairs) uses the archive :meth:`to_bytes`
makes, so that one stream still holds a whole image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO

from .errors import ImageFileError
from .filemaps import FileHolder
from .image import URL_TIMEOUT

if TYPE_CHECKING:
    from .image import SpatialImage


def _single_file_type(klass: type[SpatialImage]) -> str | None:
    types = klass.files_types
    return types[0][0] if len(types) == 1 else None


def to_stream(img: SpatialImage, stream: BinaryIO, **options: Any) -> None:
    """Write ``img`` to the writable binary ``stream`` at its current position."""
    file_type = _single_file_type(type(img))
    if file_type is None:
        stream.write(img.to_bytes(**options))
        return
    img.to_file_map({file_type: FileHolder(fileobj=stream)}, **options)


def from_stream(klass: type[SpatialImage], stream: BinaryIO, **kwargs: Any) -> SpatialImage:
    """Read an image of ``klass`` from a readable binary ``stream``.

    For a single-file format the image reads its data lazily from the
    stream, which must then stay open while the data are used.
    """
    file_type = _single_file_type(klass)
    if file_type is None:
        return klass.from_bytes(stream.read(), **kwargs)
    return klass.from_file_map({file_type: FileHolder(fileobj=stream)}, **kwargs)


def from_url(
    klass: type[SpatialImage], url: str, timeout: float = URL_TIMEOUT, **kwargs: Any
) -> SpatialImage:
    """Download ``url`` (http, https, file...) and read it as an image of ``klass``.

    The whole response is read into memory first.
    """
    from urllib.error import URLError
    from urllib.request import urlopen

    try:
        with urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (URLError, OSError, ValueError) as err:
        raise ImageFileError(f"cannot fetch {url!r}: {err}") from None
    return klass.from_bytes(data, **kwargs)
