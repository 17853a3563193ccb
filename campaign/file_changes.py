"""Files changed with a database transaction, so that the files and the audit log agree.

Before the commit, a file to delete or replace is renamed to a hidden name in its own folder
(atomic, and out of every listing that matches file names) and a new file is written
atomically. If anything fails before or at the commit, `undo` puts back what was there; once the
commit holds, `finish` removes the hidden files.
"""

import logging
from collections.abc import Iterable
from pathlib import Path

from flask_babel import gettext as _

from campaign.extensions import db
from campaign.private_files import write_private

log = logging.getLogger(__name__)

HIDDEN_PREFIX = ".removed-"


class FileChange:
    """The files one transaction writes and sets aside."""

    def __init__(self) -> None:
        self._written: list[Path] = []
        self._aside: list[tuple[Path, Path]] = []

    def set_aside(self, path: Path) -> None:
        """Move a file out of its name; nothing if it is gone already (removed meanwhile).
        Raise OSError if it cannot be moved."""
        hidden = path.with_name(f"{HIDDEN_PREFIX}{path.name}")
        try:
            path.rename(hidden)
        except FileNotFoundError:
            return
        self._aside.append((path, hidden))

    def write(self, path: Path, data: bytes, *, overwrite: bool = True) -> None:
        """Write a file 0600 atomically; raise OSError if it cannot be written (none is), and
        without `overwrite` FileExistsError if it exists."""
        write_private(path, data, overwrite=overwrite)
        self._written.append(path)

    @property
    def set_aside_files(self) -> list[Path]:
        """The files set aside, by their names before."""
        return [path for path, _hidden in self._aside]

    def undo(self) -> None:
        """Remove what was written and put back what was set aside, as far as the disk lets."""
        for path in reversed(self._written):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                log.exception("A file written before a failed commit stays: %s", path)
        for path, hidden in reversed(self._aside):
            try:
                hidden.rename(path)
            except OSError:
                log.exception("A file set aside before a failed commit stays hidden: %s", hidden)
        self._written.clear()
        self._aside.clear()

    def finish(self) -> None:
        """Remove the files set aside, now that the change is committed."""
        remove_files([hidden for _path, hidden in self._aside])
        self._written.clear()
        self._aside.clear()


def remove_files(paths: Iterable[Path]) -> None:
    """Delete files whose removal is committed; log (with its path, to remove it by hand) any
    that the disk keeps, and go on with the others."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("A removed file could not be deleted from the disk: %s", path)


def commit_with(change: FileChange) -> None:
    """Commit the session with the files' change: undone if the commit fails, finished once it
    holds."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        change.undo()
        raise
    change.finish()


def refused_message() -> str:
    """What to tell the person whose change the disk refused (OSError before the commit)."""
    return _(
        "The server could not change the stored files, so nothing has changed. Try again; if "
        "it fails again, tell the site's administrator."
    )
