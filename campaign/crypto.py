"""Private data at rest: AES-GCM under data keys kept outside the database, and the column
types that seal a value as it is written and open it as it is read.

A sealed value is ``01 | key id (4 bytes) | nonce (12) | ciphertext and tag``. The key id
says which key opens it, so that keys can be rotated (campaign.key_rotation) while the data is
in use; the column's name (its "context") is authenticated with it, so that a value copied
into another column does not open there.

The keys come from the DATA_KEYS setting (an environment variable, for instance) or else from
the file DATA_KEY_FILE (default instance/data_keys), created 0600 at first use. The first key
seals; every key opens what it sealed. They are not SECRET_KEY, and never in the database: a
copy of the database alone holds no readable private value.
"""

import base64
import contextlib
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from sqlalchemy import Column, LargeBinary, MetaData, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from campaign.private_files import private_folder, write_private

FORMAT = b"\x01"
KEY_ID_BYTES = 4
HEADER_BYTES = len(FORMAT) + KEY_ID_BYTES
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
_EXTENSION = "campaign.data_keys"
# A process that holds the keys from a file looks at the file again at most this often, so
# that a key added by `flask keys rotate` in another process is used within a second.
_RELOAD_SECONDS = 1.0
_FILE_HEADER = (
    "# Campaign data keys: the first line seals new values, every line opens what it sealed.\n"
    "# Keep this file secret, and back it up apart from the database: without it the private\n"
    "# data in the database cannot be read. `flask keys` rotates and retires keys.\n"
)


class KeyUnavailable(RuntimeError):
    """A sealed value names a key that the keyring does not hold (or the keys are malformed)."""


class TamperedValue(ValueError):
    """A sealed value failed authentication: altered, truncated, or from another column."""


def key_id_of(sealed: bytes) -> int:
    """Return the id of the key that sealed a value (read from its first bytes)."""
    if len(sealed) < HEADER_BYTES or sealed[:1] != FORMAT:
        raise TamperedValue("not a sealed value")
    return int.from_bytes(sealed[1:HEADER_BYTES], "big")


def header_of(key_id: int) -> bytes:
    """Return the first bytes of every value that key seals."""
    return FORMAT + key_id.to_bytes(KEY_ID_BYTES, "big")


def format_key_id(key_id: int) -> str:
    """Name a key as commands and files show it: eight hex digits."""
    return f"{key_id:08x}"


class Keyring:
    """Data keys in order: the first seals, every one opens."""

    def __init__(self, keys: Iterable[tuple[int, bytes]]) -> None:
        self.keys: list[tuple[int, bytes]] = list(keys)
        if not self.keys:
            raise KeyUnavailable("no data key")
        self._ciphers: dict[int, AESGCM] = {}
        for key_id, key in self.keys:
            if len(key) != KEY_BYTES or not 0 < key_id < 2 ** (8 * KEY_ID_BYTES):
                raise KeyUnavailable(f"malformed data key {format_key_id(key_id)}")
            if key_id in self._ciphers:
                raise KeyUnavailable(f"data key {format_key_id(key_id)} given twice")
            self._ciphers[key_id] = AESGCM(key)
        self.current_id = self.keys[0][0]
        self._current = self._ciphers[self.current_id]
        self._header = header_of(self.current_id)

    @classmethod
    def generate(cls) -> "Keyring":
        """Return a keyring of one new random key."""
        return cls([_new_key()])

    def with_new_key(self) -> "Keyring":
        """Return this keyring with a new random key in front (it seals from now on)."""
        key_id, key = _new_key()
        while key_id in self._ciphers:
            key_id, key = _new_key()
        return Keyring([(key_id, key), *self.keys])

    def without(self, key_ids: Iterable[int]) -> "Keyring":
        """Return this keyring without the given keys (never the current one)."""
        dropped = set(key_ids) - {self.current_id}
        return Keyring([(key_id, key) for key_id, key in self.keys if key_id not in dropped])

    @property
    def ids(self) -> list[int]:
        """The key ids, the current one first."""
        return [key_id for key_id, _key in self.keys]

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        """Seal bytes under the current key, bound to a context (a column's name)."""
        nonce = os.urandom(NONCE_BYTES)
        aad = self._header + context.encode()
        return self._header + nonce + self._current.encrypt(nonce, plaintext, aad)

    def decrypt(self, sealed: bytes, context: str) -> bytes:
        """Open a sealed value; raise KeyUnavailable or TamperedValue if it cannot be."""
        cipher = self._ciphers.get(key_id_of(sealed))
        if cipher is None:
            raise KeyUnavailable(f"no data key {format_key_id(key_id_of(sealed))}")
        if len(sealed) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
            raise TamperedValue(f"a value of {context} is truncated")
        header = sealed[:HEADER_BYTES]
        nonce = sealed[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        try:
            return cipher.decrypt(
                nonce, sealed[HEADER_BYTES + NONCE_BYTES :], header + context.encode()
            )
        except InvalidTag:
            raise TamperedValue(f"a value of {context} failed authentication") from None

    def has(self, key_id: int) -> bool:
        """Whether this keyring opens what that key sealed."""
        return key_id in self._ciphers

    def dumps(self) -> str:
        """Write the keys as the key file holds them."""
        lines = [f"{format_key_id(key_id)} {_b64(key)}" for key_id, key in self.keys]
        return _FILE_HEADER + "\n".join(lines) + "\n"

    @classmethod
    def loads(cls, text: str) -> "Keyring":
        """Read keys written as "<id> <key>" lines or items (comments and blanks skipped)."""
        keys = []
        lines = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for raw in ",".join(lines).split(","):
            line = raw.strip()
            if not line:
                continue
            try:
                key_id, key = line.replace(":", " ").split()
                keys.append(
                    (int(key_id, 16), base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
                )
            except ValueError:
                raise KeyUnavailable("malformed data key line") from None
        return cls(keys)


def _new_key() -> tuple[int, bytes]:
    return secrets.randbelow(2 ** (8 * KEY_ID_BYTES) - 1) + 1, secrets.token_bytes(KEY_BYTES)


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def new_key_line() -> str:
    """Return a new key written as DATA_KEYS and the key file take it."""
    key_id, key = _new_key()
    return f"{format_key_id(key_id)}:{_b64(key)}"


@dataclass
class _Loaded:
    keyring: Keyring
    stamp: tuple[int, int, int] | None  # the file's inode, size and mtime when read
    checked: float  # time.monotonic() of the last look at the file


class DataKeys:
    """Where an application's data keys come from: the DATA_KEYS setting, or the key file."""

    def __init__(self, configured: Any, path: Path) -> None:
        self.path = path
        if isinstance(configured, list | tuple):
            configured = "\n".join(configured)
        self.fixed = Keyring.loads(configured) if configured else None
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    @property
    def from_file(self) -> bool:
        """Whether the keys live in the key file (which `flask keys` may rewrite)."""
        return self.fixed is None

    def keyring(self, *, fresh: bool = False) -> Keyring:
        """Return the keys, from the file as it is now at most a second ago (now if fresh)."""
        if self.fixed is not None:
            return self.fixed
        loaded = self._loaded
        now = time.monotonic()
        if loaded is not None and not fresh and now - loaded.checked < _RELOAD_SECONDS:
            return loaded.keyring
        with self._lock:
            stamp = self._stamp()
            if self._loaded is None or stamp is None or stamp != self._loaded.stamp:
                keyring = self._read_or_create() if stamp is None else self._read()
                self._loaded = _Loaded(keyring, self._stamp(), now)
            else:
                self._loaded.checked = now
            return self._loaded.keyring

    def replace(self, keyring: Keyring) -> None:
        """Write the key file anew (atomically, 0600) with these keys."""
        if self.fixed is not None:
            raise KeyUnavailable("the keys come from DATA_KEYS, not from a file")
        with self._lock:
            write_private(self.path, keyring.dumps().encode())
            self._loaded = _Loaded(keyring, self._stamp(), time.monotonic())

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        return found.st_ino, found.st_size, found.st_mtime_ns

    def _read(self) -> Keyring:
        return Keyring.loads(self.path.read_text())

    def _read_or_create(self) -> Keyring:
        # Several processes may start at once: the first file made wins, the others read it.
        private_folder(self.path.parent, tighten=False)
        with contextlib.suppress(FileExistsError):
            write_private(self.path, Keyring.generate().dumps().encode(), overwrite=False)
        return self._read()


def init_app(app: Flask) -> None:
    """Attach the data keys (read lazily: the factory does no I/O)."""
    path = Path(app.config.get("DATA_KEY_FILE") or Path(app.instance_path) / "data_keys")
    if not path.is_absolute():
        path = Path(app.instance_path) / path
    app.extensions[_EXTENSION] = DataKeys(app.config.get("DATA_KEYS"), path)


def data_keys() -> DataKeys:
    """Return the current application's data keys."""
    return current_app.extensions[_EXTENSION]


def keyring() -> Keyring:
    """Return the current application's keyring."""
    return data_keys().keyring()


def seal(plaintext: bytes, context: str) -> bytes:
    """Seal bytes under the current application's current key."""
    return keyring().encrypt(plaintext, context)


def unseal(sealed: bytes, context: str) -> bytes:
    """Open bytes sealed under any key of the application (its key file read again once if
    the key is new to this process)."""
    keys = keyring()
    if not keys.has(key_id_of(sealed)):
        keys = data_keys().keyring(fresh=True)
    return keys.decrypt(sealed, context)


class _SealedComparator(TypeDecorator.Comparator):  # type: ignore[type-arg]
    """Only IS NULL and IS NOT NULL: a sealed value never equals anything (a new nonce each
    time), so a lookup that needs equality uses a keyed hash (signatures.contacts)."""

    _ALLOWED: ClassVar[set[Any]] = {operators.is_, operators.is_not}

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        """Refuse every comparison but IS (NOT) NULL."""
        if op not in self._ALLOWED:
            raise TypeError(f"A sealed column cannot be compared ({op.__name__}); use a hash.")
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        """Refuse every comparison."""
        raise TypeError(f"A sealed column cannot be compared ({op.__name__}); use a hash.")


class Sealed(TypeDecorator[Any]):
    """Base of the sealed column types; `context` names the column (``"table.column"``)."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _SealedComparator

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.context!r})"


class SealedText(Sealed):
    """A string stored sealed (see the module's docstring); models read and write plain str."""

    cache_ok = True  # SQLAlchemy reads it from each class itself

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        """Seal the text before it is stored."""
        return None if value is None else seal(value.encode(), self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        """Open the text as it is read."""
        return None if value is None else unseal(bytes(value), self.context).decode()


class SealedBytes(Sealed):
    """Bytes (an image, a file) stored sealed; models read and write plain bytes."""

    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Seal the bytes before they are stored."""
        return None if value is None else seal(bytes(value), self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Open the bytes as they are read."""
        return None if value is None else unseal(bytes(value), self.context)


def sealed_columns(metadata: MetaData) -> Iterator[tuple[Table, list[Column[Any]]]]:
    """Yield every table that has sealed columns, with those columns (for rotation)."""
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, Sealed)]
        if columns:
            yield table, columns
