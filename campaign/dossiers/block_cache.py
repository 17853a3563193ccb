"""Keep the PDFs of a dossier's table and annex blocks on disk, by fingerprint of what they show.

A block's PDF depends only on its rows (and on the code, templates and translations that lay
it out), so it is cached under a fingerprint of them: after new signatures only the last
blocks are rendered again.
"""

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Self, cast

import weasyprint
from flask import current_app

from campaign import ROOT
from campaign.dossiers.content import DossierContent
from campaign.dossiers.models import Edition
from campaign.private_files import private_folder

# Cached blocks held open at once (about 50,000 signatories); beyond that they are read into
# memory. The merge maps each file, a second descriptor: this stays well under the usual
# limit of 1,024 open files.
OPEN_BLOCKS = 256
# write_atomically copies a file a megabyte at a time.
COPY_CHUNK = 1024 * 1024
# The dossier's templates: a change to any of them makes every cached block stale.
TEMPLATES = (
    "_base", "front", "table", "summary", "annex", "verification", "_bars", "signer_sheets",
)  # fmt: skip


@cache
def _layout_revision(language: str) -> str:
    """Fingerprint what shapes a block besides its rows: code, templates, stylesheet, translations.

    A change to any of them (a new release) makes every cached block stale.
    """
    digest = hashlib.sha256()
    for module in (
        "pdf.py",
        "pdf_images.py",
        "pdf_glyphs.py",
        "pdf_tables.py",
        "pdf_table_painter.py",
        "dossiers/block_cache.py",
        "dossiers/layout.py",
        "dossiers/table_parts.py",
        "dossiers/page_jobs.py",
        "dossiers/rendering.py",
        "dossiers/pagination.py",
        "dossiers/drawn_tables.py",
    ):
        digest.update((ROOT / "campaign" / module).read_bytes())
    digest.update(weasyprint.__version__.encode())
    for name in TEMPLATES:
        digest.update((ROOT / "templates" / "pdf" / f"{name}.html").read_bytes())
    digest.update((ROOT / "static" / "css" / "dossier.css").read_bytes())
    catalogue = ROOT / "translations" / language / "LC_MESSAGES" / "messages.mo"
    if catalogue.exists():
        digest.update(catalogue.read_bytes())
    return digest.hexdigest()[:16]


def cache_folder(appeal_id: int, edition: Edition | None = None) -> Path:
    """Return where the blocks of an appeal's dossiers (of one edition, if given) are cached."""
    folder = Path(current_app.config["DOSSIER_FOLDER"]) / "cache" / str(appeal_id)
    return folder if edition is None else folder / edition.value


class _FileSlice(io.RawIOBase):
    """Part of a file, read as a file of its own (it has no descriptor to map)."""

    def __init__(self, descriptor: int, offset: int, length: int) -> None:
        super().__init__()
        self._descriptor, self._offset, self._length = descriptor, offset, length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = max(0, min(len(buffer), self._length - self._position))
        data = os.pread(self._descriptor, wanted, self._offset + self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}
        self._position = max(0, start[whence] + offset)
        return self._position

    def tell(self) -> int:
        return self._position


class BlockCache:
    """PDFs of table and annex blocks on disk, by content fingerprint, per appeal and edition.

    After each render only the blocks it used are kept; a committed withdrawal empties the
    appeal's cache (operations.forget_cached_blocks).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()
        self._open = ExitStack()
        self._count = 0
        self._spilled: BinaryIO | None = None
        self._spilled_end = 0

    def __enter__(self) -> Self:
        # Made here only: a withdrawal during the render removes the folder, and the blocks
        # rendered after it (which may hold her row) must not bring it back.
        private_folder(self.folder)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, key: str) -> BinaryIO | bytes | None:
        """Return a cached block's file, open (it stays readable should the cache be emptied).

        Past OPEN_BLOCKS files, return a copy in one unnamed file (read from there when merged):
        at 100,000 signatories the blocks past the limit were 150 MB held in memory.
        """
        path = self.folder / f"{key}.pdf"
        try:
            if self._count < OPEN_BLOCKS:
                found: BinaryIO | bytes = self._open.enter_context(path.open("rb"))
                self._count += 1
            else:
                found = self._spill(path.read_bytes())
        except FileNotFoundError:
            return None
        self.used.add(key)
        return found

    def _spill(self, pdf: bytes) -> BinaryIO:
        if self._spilled is None:
            # Unnamed: emptying the cache leaves it readable, and nothing of it outlives us.
            spill = tempfile.TemporaryFile(dir=self.folder)  # noqa: SIM115 (closed with the rest)
            self._spilled = self._open.enter_context(spill)
            self._spilled_end = 0
        offset = self._spilled_end
        os.pwrite(self._spilled.fileno(), pdf, offset)
        self._spilled_end += len(pdf)
        return cast(BinaryIO, _FileSlice(self._spilled.fileno(), offset, len(pdf)))

    def put(self, key: str, pdf: bytes) -> None:
        """Keep a block, written atomically; not at all if the cache is emptied meanwhile."""
        try:
            write_atomically(self.folder / f"{key}.pdf", pdf)
        except FileNotFoundError:
            # A withdrawal emptied the cache between the two: this render is made again
            # (make_snapshot counts the withdrawals), and the block need not be kept.
            return
        self.used.add(key)

    def manifest(self, name: str) -> list[tuple[str, int, str]]:
        """Return a drawn table's blocks as the last render cut them, in order.

        Each is (key, rows, fingerprint of the row after it or "").
        """
        try:
            entries = json.loads((self.folder / f"{name}.json").read_text("utf-8"))
            return [(str(key), int(count), str(following)) for key, count, following in entries]
        except (OSError, ValueError, TypeError):
            return []

    def write_manifest(self, name: str, entries: Sequence[tuple[str, int, str]]) -> None:
        """Record a drawn table's blocks, in order (not at all if the cache is emptied)."""
        data = json.dumps([list(entry) for entry in entries]).encode()
        try:
            write_atomically(self.folder / f"{name}.json", data)
        except FileNotFoundError:
            return

    def close(self) -> None:
        """Close the files that get returned."""
        self._open.close()
        self._count = 0
        self._spilled = None

    def prune(self) -> None:
        """Forget every block the last render did not use."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.pdf"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes | BinaryIO) -> None:
    """Write a file so that readers see the old one or the whole new one, never half of it.

    data is bytes, or a file copied from where it stands.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                shutil.copyfileobj(data, handle, COPY_CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def block_key(kind: str, content: DossierContent, landscape: bool, items: Sequence[Any]) -> str:
    """Fingerprint a block: its kind, what shapes its layout, and its items."""
    digest = hashlib.sha256()
    header = [
        _layout_revision(content.language),
        kind,
        content.edition.value,
        content.language,
        landscape,
    ]
    header.append(len(content.versions) > 1)
    header.append(content.questions)
    digest.update(json.dumps(header, ensure_ascii=False).encode())
    for item in items:
        # A frozen dataclass of strings, numbers and tuples of them: its repr is its value.
        digest.update(repr(item).encode())
    return digest.hexdigest()


def item_key(item: Any) -> str:
    """Fingerprint one row or family (a frozen dataclass: its repr is its value)."""
    return hashlib.sha256(repr(item).encode()).hexdigest()[:32]
