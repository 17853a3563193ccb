"""Files and folders for this user's eyes only: folders 0700, files 0600.

Everything instance/ holds (the database, the keys, the outbox, the dossiers, the task queue)
carries signers' data or the keys to it; other local users must not read any of it.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path | str, *, tighten: bool = True) -> Path:
    """Make a folder (and its missing parents) 0700; tighten it if it exists and is looser,
    unless told not to (a folder that is not the application's own, such as where a key or a
    certificate is asked to go)."""
    path = Path(path)
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        # Made meanwhile by another process or thread: as good.
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
    if tighten:
        _tighten(path, FOLDER_MODE)
    return path


def private_file(path: Path | str) -> Path:
    """Create an empty file 0600 if missing; tighten it if it exists and is looser."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        _tighten(path, FILE_MODE)
    return path


def write_private(path: Path | str, data: bytes, *, overwrite: bool = True) -> None:
    """Write a file 0600 atomically: readers see the old one or the whole new one.

    Without `overwrite`, raise FileExistsError if the file exists (checked atomically).
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() refuses an existing target atomically, unlike a check followed by rename.
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def tighten_file(path: Path | str) -> None:
    """Make an existing file 0600 if it is looser; nothing if it is missing."""
    _tighten(Path(path), FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return
    if stat.S_IMODE(found.st_mode) & ~mode and found.st_uid == os.getuid():
        path.chmod(stat.S_IMODE(found.st_mode) & mode)
