"""Which library does the work for each codec, and the thread pool they share.

gzip uses ISA-L (package ``isal``) when it is installed and the standard
library's zlib otherwise; single gzip streams read with random access are
inflated by ``zlib-ng`` when installed (as fast as ISA-L nearly, and unlike
ISA-L its state can be copied, which the seek index needs), by zlib otherwise;
zstd uses ``zstandard`` (or ``compression.zstd`` on
Python >= 3.14); bzip2 always uses the standard library. Setting the
environment variable ``VOXELIO_STDLIB_CODECS=1`` restricts every codec to the
standard library, so tests can exercise the fallback. The variable is read at
each call, never cached, and the optional packages are imported lazily so that
``import voxelio`` stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._records import FrozenRecord
from ..errors import ImageFileError

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

STDLIB_ENV = "VOXELIO_STDLIB_CODECS"
THREADS_ENV = "VOXELIO_NUM_THREADS"

#: compresslevel (on zlib's 0-9 scale) used when the caller gives none. Level 1
#: is NiBabel's default, so files come out about the same size as NiBabel's.
DEFAULT_GZIP_LEVEL = 1
DEFAULT_BZ2_LEVEL = 9
DEFAULT_ZSTD_LEVEL = 3

# zlib level -> ISA-L level giving a file no larger than zlib's (measured on
# smooth-plus-noise int16 volumes: ISA-L 2 is within 0.3% of zlib 1, ISA-L 3
# is smaller than zlib 2). Higher levels stay with zlib, which compresses
# better than ISA-L's best; level 0 (stored blocks) too.
_ISAL_LEVEL_FOR_ZLIB_LEVEL = {1: 2, 2: 3}
# The same for integer values (scanner data: T1, fMRI, label maps): ISA-L 3
# is both smaller (0.3-1% below zlib 1) and 10-25% faster than ISA-L 2 on
# them, but twice as slow as 2 on float values, whose noisy mantissas it
# cannot compress any better.
_ISAL_LEVEL_FOR_ZLIB_LEVEL_INTEGERS = {1: 3, 2: 3}


def stdlib_only() -> bool:
    """True when ``VOXELIO_STDLIB_CODECS`` asks for standard-library codecs only."""
    return os.environ.get(STDLIB_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _isal() -> Any | None:
    if stdlib_only():
        return None
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


class Deflater(FrozenRecord):
    """Functions that compress one gzip member's payload (raw deflate) and checksum it.

    ``member_body`` gives a whole member but its header: the raw deflate
    stream followed by the gzip trailer (CRC32 and size of the input), the
    checksum computed by the compressor in the same pass over the input.
    """

    _fields = ("compress", "compressobj", "crc32", "level", "member_body")

    def __init__(
        self,
        compress: Callable[[Any], bytes],
        compressobj: Callable[[], Any],
        crc32: Callable[..., int],
        level: int,
        member_body: Callable[[Any], bytes],
    ) -> None:
        vars(self).update(compress=compress, compressobj=compressobj, crc32=crc32, level=level,
                          member_body=member_body)


def deflater(compresslevel: int | None, *, integers: bool = False) -> Deflater:
    """The fastest deflate implementation for ``compresslevel`` (zlib's 0-9 scale).

    ``integers`` says the bytes are integer values, which ISA-L compresses
    faster at the level it then picks (see ``_ISAL_LEVEL_FOR_ZLIB_LEVEL_INTEGERS``).
    """
    import zlib

    level = DEFAULT_GZIP_LEVEL if compresslevel is None else int(compresslevel)
    if not 0 <= level <= 9:
        raise ValueError(f"gzip compresslevel must be between 0 and 9, not {compresslevel!r}")
    isal_zlib = _isal()
    crc32 = isal_zlib.crc32 if isal_zlib is not None else zlib.crc32
    levels = _ISAL_LEVEL_FOR_ZLIB_LEVEL_INTEGERS if integers else _ISAL_LEVEL_FOR_ZLIB_LEVEL
    if isal_zlib is not None and level in levels:
        from isal import igzip_lib

        ilevel = levels[level]
        return Deflater(
            compress=lambda data: isal_zlib.compress(data, ilevel, wbits=-15),
            compressobj=lambda: isal_zlib.compressobj(ilevel, isal_zlib.DEFLATED, -15),
            crc32=crc32,
            level=level,
            member_body=lambda data: igzip_lib.compress(data, ilevel, igzip_lib.COMP_GZIP_NO_HDR),
        )
    return Deflater(
        compress=lambda data: zlib.compress(data, level, wbits=-15),
        compressobj=lambda: zlib.compressobj(level, zlib.DEFLATED, -15),
        crc32=crc32,
        level=level,
        # zlib's gzip output starts with a header of its own, always 10 bytes
        # (no name, comment or extra field): the member gets voxelio's instead
        member_body=lambda data: zlib.compress(data, level, wbits=31)[_ZLIB_GZIP_HEADER:],
    )


_ZLIB_GZIP_HEADER = 10


def gzip_inflate_errors() -> tuple[type[BaseException], ...]:
    """Exception types the gzip inflaters raise on corrupt input."""
    import zlib

    errors: list[type[BaseException]] = [zlib.error]
    for module in (_isal(), _zlib_ng()):
        if module is not None:
            errors.append(module.error)
    return tuple(errors)


def inflate_member(data: Any, usize: int) -> bytes:
    """Inflate one complete gzip member (header to trailer), checking CRC and length."""
    isal_zlib = _isal()
    if isal_zlib is not None:
        return isal_zlib.decompress(data, 31, max(usize, 1))
    import zlib

    return zlib.decompress(data, 31, max(usize, 1))


def inflate_member_into(data: Any, out: Any) -> None:
    """Inflate one complete gzip member straight into ``out``, which it must fill exactly.

    ISA-L's gzip reader writes into ``out`` itself (about a quarter less CPU
    than inflating into a new bytes object and copying it); without it the
    member is inflated with :func:`inflate_member` and copied. CRC and length
    are checked either way.

    Raises
    ------
    ValueError
        When the member holds more or fewer bytes than ``out``, is truncated
        or its trailer does not match.
    Exception
        One of :func:`gzip_inflate_errors` for corrupt deflate data.
    """
    import gzip

    view = memoryview(out).cast("B")
    reader_class = _gzip_reader_class()
    if reader_class is None:
        inflated = inflate_member(data, len(view))
        if len(inflated) != len(view):
            raise ValueError(f"the member holds {len(inflated)} bytes, not {len(view)}")
        view[:] = inflated
        return
    reader = reader_class(data)
    try:
        got = reader.readinto(view)
        # reading on checks the trailer (CRC, length) and that nothing follows
        more = reader.read(1)
    except (gzip.BadGzipFile, EOFError) as err:  # its words for a bad trailer, a cut member
        raise ValueError(str(err)) from None
    if got != len(view) or more:
        raise ValueError(f"the member does not hold exactly {len(view)} bytes")


def _gzip_reader_class() -> Any | None:
    """ISA-L's C gzip reader (readinto fills the caller's buffer), when installed."""
    isal_zlib = _isal()
    return None if isal_zlib is None else getattr(isal_zlib, "_GzipReader", None)


def fast_gzip_reader(source: Any, buffer_size: int | None = None) -> Any | None:
    """ISA-L's gzip reader over ``source``, or None without ISA-L.

    ``source`` is bytes-like or a binary file object (read with ``readinto``,
    ``buffer_size`` bytes at a time when given).
    The reader's ``readinto`` inflates straight into the caller's buffer,
    member after member, checking each member's CRC and length; it raises
    ``gzip.BadGzipFile`` or ``EOFError`` for a bad trailer or a cut stream,
    one of :func:`gzip_inflate_errors` for corrupt deflate data.
    """
    reader_class = _gzip_reader_class()
    if reader_class is None:
        return None
    return reader_class(source) if buffer_size is None else reader_class(source, buffer_size)


def _zlib_ng() -> Any | None:
    if stdlib_only():
        return None
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return None
    return zlib_ng


def checkpoint_gzip_module() -> Any:
    """The fastest zlib-compatible module whose decompressors can be copied.

    ``zlib_ng.zlib_ng`` when installed (about 1.4x zlib's inflate speed),
    else the standard library's ``zlib``. The seek index of single gzip
    streams keeps copies of these decompressors.
    """
    module = _zlib_ng()
    if module is not None:
        return module
    import zlib

    return zlib


def seek_index_codec() -> str:
    """The implementation (name and version) that inflates single gzip streams read at random."""
    module = _zlib_ng()
    if module is not None:
        return f"zlib-ng {module.ZLIBNG_VERSION}"
    import zlib

    return f"zlib {zlib.ZLIB_RUNTIME_VERSION}"


def has_fast_gzip() -> bool:
    """True when a gzip inflater faster than zlib (ISA-L) is in use."""
    return _isal() is not None


def fast_gzip_speedup() -> float | None:
    """How many times faster the fast gzip inflater (ISA-L) is than the seek index's.

    None without ISA-L. Measured on NiBabel-written int16 series (CPU time):
    ISA-L about 500 MB/s of output, zlib-ng 330, zlib 235.
    """
    if _isal() is None:
        return None
    return 1.5 if _zlib_ng() is not None else 2.1


def fast_gzip_decompressobj() -> Any | None:
    """A gzip decompressor faster than zlib's, or None (it cannot be copied)."""
    isal_zlib = _isal()
    return None if isal_zlib is None else isal_zlib.decompressobj(31)


def zstd_module() -> tuple[str, Any]:
    """``("zstandard", module)`` or ``("compression.zstd", module)``; raises if neither exists."""
    if not stdlib_only():
        try:
            import zstandard
        except ImportError:
            pass
        else:
            return "zstandard", zstandard
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python >= 3.14
    except ImportError:
        hint = (
            "the environment variable VOXELIO_STDLIB_CODECS restricts voxelio to the "
            "standard library, which has no zstd before Python 3.14"
            if stdlib_only()
            else "install the 'zstandard' package (pip install zstandard, or voxelio[fast])"
        )
        raise ImageFileError(f"zstd compression is not available: {hint}") from None
    return "compression.zstd", zstd


def bz2_module() -> Any:
    """The standard library's bz2 module; raises ImageFileError if Python was built without it."""
    try:
        import bz2
    except ImportError:
        raise ImageFileError(
            "bzip2 compression is not available: this Python was built without the bz2 module"
        ) from None
    return bz2


def available_codecs() -> dict[str, str]:
    """Codec name -> the implementation voxelio uses for it, for every usable codec.

    A codec missing from the result cannot be used (zstd without ``zstandard``
    on Python < 3.14). :func:`seek_index_codec` names what inflates single
    gzip streams read with random access.

    >>> sorted(available_codecs())[:2]
    ['bz2', 'gzip']
    """
    import zlib

    found: dict[str, str] = {}
    isal_zlib = _isal()
    if isal_zlib is not None:
        import isal

        found["gzip"] = f"isal {isal.__version__}"
    else:
        found["gzip"] = f"zlib {zlib.ZLIB_RUNTIME_VERSION}"
    try:
        bz2_module()
        found["bz2"] = "bz2 (standard library)"
    except ImageFileError:
        pass
    try:
        name, module = zstd_module()
    except ImageFileError:
        pass
    else:
        version = getattr(module, "__version__", None) or getattr(module, "zstd_version_info", "")
        found["zstd"] = f"{name} {version}".strip()
    return found


# -- shared worker threads ------------------------------------------------------------

_POOL_PREFIX = "voxelio-codec"
# (pid, workers) -> executor. No lock guards it: dict.setdefault publishes a
# new executor atomically, so a Ctrl-C arriving anywhere in thread_pool()
# cannot leave a lock held that the next save would wait on forever.
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}


def thread_count() -> int:
    """Worker threads for parallel (de)compression: ``VOXELIO_NUM_THREADS`` or the usable CPUs."""
    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run_all(
    executor: ThreadPoolExecutor | None, func: Callable[..., Any], calls: Iterable[tuple[Any, ...]]
) -> None:
    """Call ``func(*args)`` for each ``args`` in ``calls`` on ``executor`` and wait for all.

    With no executor the calls run here, one after the other. The first
    failure is raised; calls not started by then are cancelled.
    """
    if executor is None:
        for args in calls:
            func(*args)
        return
    futures: list[Any] = []
    try:
        for args in calls:
            futures.append(executor.submit(func, *args))
        for future in futures:
            future.result()
    finally:
        # On any exit (a failure, Ctrl-C) no task may outlive the call: the
        # caller may free or reuse what the tasks write to.
        for future in futures:
            future.cancel()
        _wait_for_running(futures)


def _wait_for_running(futures: Iterable[Any]) -> None:
    """Wait for the tasks among ``futures`` that were not cancelled (already running)."""
    from concurrent.futures import wait

    wait([f for f in futures if not f.cancelled()])


def thread_pool() -> ThreadPoolExecutor | None:
    """The worker threads codecs share, or None when one thread should be used.

    Tasks on it must not wait for other tasks on it. The executor is
    recreated after a fork (the child has none of the parent's threads) and
    when the requested thread count changes. Code already running on one of
    its workers gets None: a task waiting for tasks queued behind it could
    wait forever.
    """
    workers = thread_count()
    import threading  # here: most processes never get this far

    if workers <= 1 or threading.current_thread().name.startswith(_POOL_PREFIX):
        return None
    key = (os.getpid(), workers)
    pool = _pools.get(key)
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        # An executor starts no thread until its first task, so the spare one
        # made by a thread that lost the setdefault race costs nothing.
        pool = _pools.setdefault(key, ThreadPoolExecutor(workers, thread_name_prefix=_POOL_PREFIX))
        _retire_pools_other_than(key)
    return pool


def _retire_pools_other_than(key: tuple[int, int]) -> None:
    """Drop executors of another thread count or of the parent of a fork."""
    for other in [k for k in list(_pools) if k != key]:
        old = _pools.pop(other, None)
        if old is not None and other[0] == key[0]:
            old.shutdown(wait=False)  # a fork's parent executor has no thread here
