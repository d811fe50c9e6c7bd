"""Errors retold with the names a person asked for, not the temporary ones.

A save writes temporary files (beside the target, or in a staging folder
for URLs and file objects) and an error raised while writing them names
the temporary file, which the person never chose and which is gone by the
time they read the message. :func:`retold` makes the same kind of error
with those names replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import VoxelioError

#: exception types rebuilt from their message alone (their constructors take one)
_REBUILT = (VoxelioError, TypeError, ValueError)


def retold(err: BaseException, rename: Callable[[str], str]) -> BaseException | None:
    """``err`` with ``rename`` applied to its text, or None when nothing changes.

    An OSError keeps its errno (so its subclass: PermissionError...) and
    gets its ``filename`` renamed too; VoxelioError, TypeError and ValueError
    (subclasses included) are rebuilt from the renamed message.
    """
    if isinstance(err, OSError):
        filename = err.filename if isinstance(err.filename, str) else None
        why = err.strerror if err.strerror is not None else str(err)
        new_why, new_name = rename(why), rename(filename) if filename else filename
        if new_why == why and new_name == filename:
            return None
        new: BaseException = (
            OSError(err.errno, new_why, new_name) if err.errno is not None else OSError(new_why)
        )
    elif isinstance(err, _REBUILT) and len(err.args) <= 1:
        text = str(err)
        if rename(text) == text:
            return None
        try:
            new = type(err)(rename(text))
        except TypeError:  # a subclass with a constructor of its own: leave it be
            return None
    else:
        return None
    return new


def replacing(names: dict[str, str]) -> Callable[[str], str]:
    """A ``rename`` function replacing each key of ``names`` by its value (longest first)."""
    ordered = sorted(names.items(), key=lambda item: len(item[0]), reverse=True)

    def rename(text: str) -> str:
        for old, new in ordered:
            if old:
                text = text.replace(old, new)
        return text

    return rename
