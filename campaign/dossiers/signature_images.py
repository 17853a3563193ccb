"""The drawn signatures a dossier shows, kept in an unnamed file while it is rendered.

At 100,000 signatories the PNGs are about 150 MB: held in memory beside the rows and the
laid-out pages, they were an eighth of the render's peak (issue 22). They are written to an
unnamed file in the dossier folder (it holds private data, and is gone when closed) as they
are read from the database; a block's render job carries a BlockImages, which reads its own
PNGs only when the job is drawn or sent to a render worker.

Only the drawings of rows laid out again are read at all: the rows carry each drawing's stored
SHA-256, and the layout asks for the PNGs of the rows not in cached blocks (load). After 1 %
more signatures, reading every drawing took a fifth of the render at 100,000 (issue 22).
"""

import os
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from campaign.private_files import private_folder
from campaign.signatures.models import png_fingerprint

# Drawings read from the database at a time (each about 1.5 KB).
READ_AT_ONCE = 500
# Reads the PNGs of some signatures: (signature id, PNG) for each that has one.
ImageReader = Callable[[Sequence[int]], Iterable[tuple[int, bytes]]]


class DrawingGone(Exception):
    """A drawing asked for is no longer stored: she withdrew after her row was read."""


class SignatureImages(Mapping[str, bytes]):
    """PNGs by their SHA-256, in an unnamed file; read back (from any thread) when asked for.

    A drawing is known first by its stored SHA-256 (expect), read from the database only when
    load asks for it (in the thread that collected the content: it holds the session).
    """

    def __init__(self, folder: Path, read: ImageReader) -> None:
        private_folder(folder)
        self._read = read
        self._stored: dict[str, int] = {}  # sha256 -> a signature with that drawing
        descriptor, path = tempfile.mkstemp(dir=folder)  # readable by this user only
        os.unlink(path)
        self._fd = descriptor
        # Closed by close(), or when this is collected (the rows it serves with it).
        self._closer = weakref.finalize(self, os.close, descriptor)
        self._places: dict[str, tuple[int, int]] = {}  # sha256 -> (offset, length)
        self._end = 0

    def expect(self, sha: str, signature_id: int) -> None:
        """Note the stored SHA-256 of a signature's drawing, to be read if load asks for it."""
        self._stored.setdefault(sha, signature_id)

    def load(self, shas: Iterable[str]) -> None:
        """Read the drawings with these SHA-256s ("" for none) that are not in the file yet.

        Each is checked against its stored SHA-256, which the dossier lists beside her row.
        Raises DrawingGone if one was deleted meanwhile (a withdrawal deletes her drawing).
        """
        wanted = {self._stored[sha]: sha for sha in shas if sha and sha not in self._places}
        ids = sorted(wanted)
        for start in range(0, len(ids), READ_AT_ONCE):
            for signature_id, png in self._read(ids[start : start + READ_AT_ONCE]):
                if self.add(png) != wanted[signature_id]:
                    raise ValueError(
                        f"the drawing of signature {signature_id} does not match its SHA-256"
                    )
        if any(sha not in self._places for sha in wanted.values()):
            raise DrawingGone

    def add(self, png: bytes) -> str:
        """Keep a PNG (once however often it is added); return its SHA-256."""
        sha = png_fingerprint(png)
        if sha not in self._places:
            os.pwrite(self._fd, png, self._end)
            self._places[sha] = (self._end, len(png))
            self._end += len(png)
        return sha

    def __getitem__(self, sha: str) -> bytes:
        offset, length = self._places[sha]
        return os.pread(self._fd, length, offset)

    def __iter__(self) -> Iterator[str]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)

    def close(self) -> None:
        """Delete the file; the images can no longer be read."""
        self._closer()
        self._places.clear()

    def __reduce__(self) -> Any:
        # Never sent to a worker whole: a job carries a BlockImages of its own images.
        raise TypeError("SignatureImages stays in its process; send a BlockImages")


class BlockImages(Mapping[str, bytes]):
    """Some of a dossier's images under the names a render job uses, read when used.

    Pickled (sent to a render worker) as a plain dict of the PNGs: only the jobs on their way to
    a worker hold their images, not every job of the dossier.
    """

    def __init__(self, images: Mapping[str, bytes], names: Mapping[str, str]) -> None:
        self._images = images
        self._names = dict(names)  # the job's name -> the image's SHA-256

    def __getitem__(self, name: str) -> bytes:
        return self._images[self._names[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __reduce__(self) -> Any:
        return (dict, (dict(self.items()),))
