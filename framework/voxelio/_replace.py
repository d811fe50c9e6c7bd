"""How a save puts its new files where the old ones were.

Every named file a save writes goes first to a temporary file; only when
all of them are complete do they take the targets' places. What this
module promises (docs/guarantees.md says it for users):

- **One file**: ``os.replace`` of a complete temporary file, so the name
  shows the whole old file or the whole new one, never a mix.
- **Several files** (a header + image pair): all temporaries are complete
  before the first replacement; the old files are kept (hard links) until
  the last replacement succeeded, and a failing replacement puts back the
  ones already done. A *journal* file beside the files, locked while the
  replacements run, serialises concurrent savers of the same files and
  lets loaders see a save in progress (they wait) or one killed half-way
  (they refuse: :mod:`voxelio._settled`). The next save of those files
  rolls such a half-done save back before it starts.
- **Links and permissions**: a symbolic link is followed (its target is
  replaced, the temporary file lives beside the target); mode, owner and
  group are carried over where the process may set them; a target without
  any write permission bit is refused, even for root.
- **In place**: a target with several hard links, or a writable file in a
  folder where no new file may be created, is overwritten in place once its
  new content is complete (in a temporary file of the system's temporary
  folder), so the links stay shared; such a write is not atomic, and its
  old content is put back if the copy fails.
- **Errors** from the environment are OSErrors of the same type and errno
  whose ``filename`` is the name the user asked for, not a temporary one;
  no temporary file is left behind on any exit, KeyboardInterrupt included
  (Ctrl-C is held while files are created, swapped or cleaned up, and
  raised once that is done; it acts at once while the data are written).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from . import _displaced
from ._retell import replacing, retold
from .errors import ImageFileError, VoxelioError

TEMP_SUFFIX = ".voxelio-tmp"
BACKUP_SUFFIX = ".voxelio-old"
JOURNAL_SUFFIX = ".voxelio-journal"
#: characters of the target's name kept in temporary names (a long target name
#: must not make its temporary name too long for the file system)
_NAME_KEPT = 120
_COPY_CHUNK = 1 << 20


class _Target:
    """One file a save replaces: the name asked for and what it resolves to."""

    def __init__(self, requested: str) -> None:
        self.requested = requested
        self.path = os.path.realpath(requested)
        self.folder, self.name = os.path.split(self.path)
        self.stat: os.stat_result | None = None
        self.in_place = False
        self.temp: str | None = None
        self.backup: str | None = None

    def error(self, err: OSError, doing: str = "cannot save") -> OSError:
        """``err`` retold about the requested name (same type and errno)."""
        why = err.strerror or str(err)
        return _oserror(err.errno, f"{doing} {self.requested!r}: {why}", self.requested)


def _oserror(code: int | None, message: str, filename: str) -> OSError:
    if code is None:
        return OSError(message)
    # OSError(errno, ...) picks the matching subclass (PermissionError...)
    return OSError(code, message, filename)


def _mode_writable(mode: int) -> bool:
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def inspect(requested: str) -> _Target:
    """Check that ``requested`` may be saved to, before anything is written.

    Raises
    ------
    OSError
        FileNotFoundError (missing folder), NotADirectoryError,
        IsADirectoryError, PermissionError (read-only file or folder),
        OSError(ENAMETOOLONG)... naming ``requested``.
    ImageFileError
        The target exists and is not a regular file (a FIFO, a device).
    """
    target = _Target(requested)
    try:
        target.stat = os.stat(target.path)
    except FileNotFoundError:
        target.stat = None
    except OSError as err:
        raise target.error(err) from None
    st = target.stat
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise _oserror(
                errno.EISDIR, f"cannot save {requested!r}: it is a folder", requested
            )
        if not stat.S_ISREG(st.st_mode):
            raise ImageFileError(
                f"cannot save {requested!r}: it exists and is not a regular file (a FIFO or "
                "a device); to stream an image, pass an open file object instead of a name"
            )
        if not _mode_writable(st.st_mode) or not os.access(target.path, os.W_OK):
            raise _oserror(
                errno.EACCES,
                f"cannot save {requested!r}: the file is read-only (mode "
                f"{stat.S_IMODE(st.st_mode):#o}); voxelio does not replace read-only files, "
                "make it writable first (chmod u+w) or save under another name",
                requested,
            )
    try:
        folder_st = os.stat(target.folder)
    except OSError as err:
        raise _oserror(
            err.errno,
            f"cannot save {requested!r}: its folder {target.folder!r} "
            f"{'does not exist' if err.errno == errno.ENOENT else 'is not usable'} "
            f"({err.strerror})",
            requested,
        ) from None
    if not stat.S_ISDIR(folder_st.st_mode):
        raise _oserror(
            errno.ENOTDIR, f"cannot save {requested!r}: {target.folder!r} is not a folder",
            requested,
        )
    folder_writable = _mode_writable(folder_st.st_mode) and os.access(
        target.folder, os.W_OK | os.X_OK
    )
    if not folder_writable:
        if st is None:
            raise _oserror(
                errno.EACCES,
                f"cannot save {requested!r}: its folder {target.folder!r} is read-only, "
                "so no new file can be created there",
                requested,
            )
        target.in_place = True  # the file is writable, its folder is not
    elif st is not None and st.st_nlink - _own_backups(target, st) > 1:
        target.in_place = True  # replacing would split the hard links
    return target


def _own_backups(target: _Target, st: os.stat_result) -> int:
    """How many of the file's hard links are backups a running save keeps."""
    if st.st_nlink < 2:
        return 0
    prefix = f".{target.name[:_NAME_KEPT]}."
    count = 0
    with contextlib.suppress(OSError), os.scandir(target.folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(BACKUP_SUFFIX):
                with contextlib.suppress(OSError):
                    count += os.path.samestat(entry.stat(follow_symlinks=False), st)
    return count


def _temp_name(folder: str, name: str, suffix: str) -> str:
    return os.path.join(folder, f".{name[:_NAME_KEPT]}.{secrets.token_hex(4)}{suffix}")


def _create_temp(target: _Target) -> None:
    """Create the target's empty temporary file (its name is recorded first)."""
    if target.in_place:
        import tempfile

        folder = tempfile.gettempdir()
    else:
        folder = target.folder
    for _ in range(100):
        # recorded before it exists: an interrupt between creation and
        # recording would otherwise leave it behind
        target.temp = _temp_name(folder, target.name, TEMP_SUFFIX)
        try:
            fd = os.open(target.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as err:
            target.temp = None
            raise target.error(err) from None
        os.close(fd)
        return
    raise target.error(OSError(errno.EEXIST, "no free temporary name"))


def _carry_metadata(target: _Target) -> None:
    """Give the temporary file the target's mode, owner and group (where allowed)."""
    assert target.temp is not None
    st = target.stat
    if st is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(target.temp, 0o666 & ~umask)
        return
    if hasattr(os, "chown"):
        try:
            os.chown(target.temp, st.st_uid, st.st_gid)
        except OSError:  # not ours to give away: keep at least the group if we may
            with contextlib.suppress(OSError):
                os.chown(target.temp, -1, st.st_gid)
    os.chmod(target.temp, stat.S_IMODE(st.st_mode))


@contextlib.contextmanager
def safe_replace(*requested: str | os.PathLike) -> Iterator[list[str]]:
    """Yield temporary names for ``requested``; put them in place if the block succeeds.

    See the module docstring for what is promised.
    """
    # Ctrl-C is held from here to the end, except while the caller writes
    # (which may take long): files are never left half created or swapped
    guard = _InterruptGuard()
    targets: list[_Target] = []
    try:
        if len(requested) > 1:
            _finish_interrupted([os.fspath(name) for name in requested])
        targets.extend(inspect(os.fspath(name)) for name in requested)
        for target in targets:
            _create_temp(target)
        # No try statement of its own here: CPython 3.11 leaves the line of a
        # nested ``try:`` outside the enclosing handler, so an interrupt
        # raised on that line (a trace function can) skipped the clean-up.
        with _errors_retold(targets), guard.released():
            yield [t.temp for t in targets]  # type: ignore[misc]
        _put_in_place(targets)
    finally:
        with _uninstalled_after(guard):
            _remove_leftovers(targets)


@contextlib.contextmanager
def _errors_retold(targets: Sequence[_Target]) -> Iterator[None]:
    """OS errors from the caller's writes, retold with the requested names."""
    try:
        yield
    except OSError as err:
        raise _retold(err, targets) from None
    except VoxelioError as err:  # e.g. the codec layer's "cannot open <temporary name>"
        cause = err.__cause__
        if isinstance(cause, OSError) and any(cause.filename == t.temp for t in targets):
            raise _retold(cause, targets) from None
        new = retold(err, replacing({t.temp: t.requested for t in targets if t.temp}))
        if new is None:
            raise
        raise new from None


@contextlib.contextmanager
def _uninstalled_after(guard: _InterruptGuard) -> Iterator[None]:
    try:
        yield
    finally:
        guard.uninstall()


def _put_in_place(targets: Sequence[_Target]) -> None:
    for target in targets:
        try:
            if not target.in_place:
                _carry_metadata(target)
        except OSError as err:
            raise target.error(err) from None
    renamed = [t for t in targets if not t.in_place]
    if len(renamed) == 1:
        _replace_one(renamed[0])
    elif renamed:
        _replace_together(renamed)
    for target in targets:
        if target.in_place:
            _write_in_place(target)


def _remove_leftovers(targets: Sequence[_Target]) -> None:
    for target in targets:
        for leftover in (target.temp, target.backup):
            if leftover is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)


def _retold(err: OSError, targets: Sequence[_Target]) -> OSError:
    """An error raised while writing temporaries, told about the requested names."""
    for target in targets:
        if err.filename is not None and err.filename == target.temp:
            return target.error(err)
    if len(targets) == 1:
        return targets[0].error(err)
    names = " and ".join(repr(t.requested) for t in targets)
    why = err.strerror or str(err)
    return _oserror(err.errno, f"cannot save {names}: {why}", targets[0].requested)


def _replace_one(target: _Target) -> None:
    assert target.temp is not None
    # the old file is freed off this thread (see voxelio._displaced)
    old = _displaced.hold(target.path) if target.stat is not None else None
    try:
        os.replace(target.temp, target.path)
    except OSError as err:
        _displaced.let_go(old)
        raise target.error(err) from None
    target.temp = None
    _displaced.let_go(old)


# -- several files --------------------------------------------------------------------
def journal_path(paths: Sequence[str]) -> str:
    """The journal of a set of files saved together: beside the first (sorted) one."""
    first = sorted(os.path.realpath(p) for p in paths)[0]
    folder, name = os.path.split(first)
    return os.path.join(folder, f".{name[:_NAME_KEPT]}{JOURNAL_SUFFIX}")


@contextlib.contextmanager
def _locked_journal(path: str) -> Iterator[int | None]:
    """An exclusive lock on the journal at ``path`` (None where locks do not exist)."""
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows): one saver at a time is the user's job
        yield None
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # the previous holder may have removed the file we locked: lock
            # the one at the name, or two savers would both think they hold it
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    try:
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _finish_interrupted(paths: Sequence[str]) -> None:
    """Roll back a save of these files that was killed half-way, if there was one."""
    journal = journal_path(paths)
    if not os.path.exists(journal):
        return
    try:
        with _locked_journal(journal) as fd:
            if fd is None:
                return
            stale = read_journal(fd)
            if stale:
                roll_back(stale)
            os.unlink(journal)
    except OSError as err:
        raise _oserror(
            err.errno,
            f"cannot save {paths[0]!r}: an earlier save of it was interrupted and cannot be "
            f"rolled back ({err.strerror})",
            paths[0],
        ) from None


def read_journal(fd: int) -> list[dict[str, Any]]:
    """The entries a journal records (empty when no save is half done)."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return []
    try:
        entries = json.loads(raw)["files"]
    except (ValueError, KeyError, TypeError):
        return []  # a journal cut short by a crash: it was written before any swap
    return [e for e in entries if isinstance(e, dict)]


def _write_journal(fd: int, targets: Sequence[_Target]) -> None:
    entries = [{"path": t.path, "backup": t.backup, "temp": t.temp} for t in targets]
    data = json.dumps({"files": entries}).encode()
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.fsync(fd)


def roll_back(entries: Sequence[dict[str, Any]]) -> None:
    """Put back the files a half-done save had replaced (from its journal)."""
    for entry in entries:
        path, backup, temp = entry.get("path"), entry.get("backup"), entry.get("temp")
        if backup and os.path.lexists(backup):
            _restore(backup, path)
        elif not backup and path and temp and not os.path.lexists(temp):
            # the file did not exist before and its temporary was moved in: remove it
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if temp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


def _restore(backup: str, path: str) -> None:
    """Put the old file kept as ``backup`` back at ``path``."""
    try:
        same = os.path.samefile(backup, path)
    except OSError:
        same = False
    if same:  # never replaced: rename() between two links of one file does nothing
        os.unlink(backup)
    else:
        os.replace(backup, path)


def _keep_old(target: _Target) -> None:
    """Keep the target's current file under a backup name until the save is done."""
    if target.stat is None:
        return
    target.backup = _temp_name(target.folder, target.name, BACKUP_SUFFIX)
    try:
        try:
            os.link(target.path, target.backup)
        except OSError:  # a file system without hard links: a copy does the same job
            import shutil

            shutil.copyfile(target.path, target.backup)
    except OSError as err:
        raise target.error(err, "cannot keep the old version of") from None


def _replace_together(targets: Sequence[_Target]) -> None:
    """Replace every target, or none (see the module docstring)."""
    journal = journal_path([t.path for t in targets])
    try:
        lock = _locked_journal(journal)
        fd = lock.__enter__()
    except OSError as err:
        raise targets[0].error(err, "cannot lock the files of") from None
    try:
        if fd is not None:
            stale = read_journal(fd)
            if stale:
                roll_back(stale)  # a saver was killed half-way: back to its old files
        for target in targets:
            _keep_old(target)
        if fd is not None:
            _write_journal(fd, targets)
        done: list[_Target] = []
        try:
            for target in targets:
                try:
                    os.replace(target.temp, target.path)  # type: ignore[arg-type]
                except OSError as err:
                    raise target.error(err) from None
                done.append(target)
        except BaseException:
            _undo(done, targets)
            raise
        for target in targets:
            target.temp = None
            if target.backup is not None:
                # the backup is the old file's last name: freed off this thread
                old = _displaced.hold(target.backup)
                try:
                    os.unlink(target.backup)
                finally:
                    _displaced.let_go(old)
                target.backup = None
        if fd is not None:
            os.unlink(journal)
    finally:
        lock.__exit__(None, None, None)


def _undo(done: Sequence[_Target], targets: Sequence[_Target]) -> None:
    """Put the old files back after a failed replacement; the journal stays if that fails."""
    try:
        for target in reversed(done):
            if target.backup is not None:
                _restore(target.backup, target.path)
                target.backup = None
            else:
                os.unlink(target.path)
    except OSError as err:
        # leave journal and backups: loaders refuse the mixed files, the next
        # save rolls them back
        for target in targets:
            target.backup = None
        raise _oserror(
            err.errno,
            f"saving {' and '.join(repr(t.requested) for t in targets)} failed and the old "
            f"files could not all be put back ({err.strerror}); the journal beside them "
            "lists where they are kept",
            targets[0].requested,
        ) from None
    with contextlib.suppress(OSError):
        os.unlink(journal_path([t.path for t in targets]))


# -- in place ------------------------------------------------------------------------
def _copy(src: Any, dst: Any) -> None:
    while chunk := src.read(_COPY_CHUNK):
        dst.write(chunk)


def _write_in_place(target: _Target) -> None:
    """Overwrite the target's own file with the complete temporary file's content."""
    import tempfile

    assert target.temp is not None
    try:
        with open(target.path, "r+b") as out, open(target.temp, "rb") as new, \
                tempfile.TemporaryFile() as old:
            _copy(out, old)
            try:
                out.seek(0)
                _copy(new, out)
                out.truncate()
                out.flush()
            except BaseException:
                old.seek(0)
                out.seek(0)
                _copy(old, out)
                out.truncate()
                raise
    except OSError as err:
        raise target.error(err) from None


# -- interrupts ----------------------------------------------------------------------
_GUARDS: list[_InterruptGuard] = []


def interrupts_held() -> bool:
    """True while a save holds Ctrl-C (the tests' interrupt emulation reads it)."""
    return any(guard.held for guard in _GUARDS)


class _InterruptGuard:
    """Hold Ctrl-C (SIGINT) from creation to :meth:`uninstall`, except in :meth:`released`.

    An interrupt that arrives while held is raised as KeyboardInterrupt when
    the hold ends. Only the main thread with Python's default handler is
    guarded (another handler is left alone).
    """

    def __init__(self) -> None:
        self.held = True
        self.pending = False
        self.previous: Any = None
        _GUARDS.append(self)
        try:
            if threading.current_thread() is threading.main_thread() and (
                signal.getsignal(signal.SIGINT) is signal.default_int_handler
            ):
                self.previous = signal.signal(signal.SIGINT, self._handler)
        except (ValueError, OSError):
            self.previous = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.held:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Let Ctrl-C through at once inside the block."""
        self.held = False
        try:
            if self.pending:
                self.pending = False
                raise KeyboardInterrupt
            yield
        finally:
            self.held = True

    def uninstall(self) -> None:
        # Put the previous handler back while still holding: an interrupt that
        # arrived after ``held`` dropped but before the handler was restored used
        # to raise out of here and leave this handler installed for good, so the
        # next save found no default handler, installed no guard, and could be
        # interrupted half-way through swapping a pair.
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
        self.held = False
        with contextlib.suppress(ValueError):
            _GUARDS.remove(self)
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt
