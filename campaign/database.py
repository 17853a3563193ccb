"""Database engine settings: SQLite pragmas, no transaction outliving a failed request, work
that waits for the transaction to commit, savepoints, and holding a row against concurrent
writers."""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, inspect, update
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from campaign.extensions import db
from campaign.private_files import private_file, tighten_file

_AFTER_COMMIT = "campaign.after_commit"


def init_app(app: Flask) -> None:
    """Configure the engine and make sure a failed transaction is never committed later."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "do_connect", _private_sqlite_files(engine.url.database))
        event.listen(engine, "connect", _sqlite_pragmas(int(app.config["SQLITE_BUSY_TIMEOUT_MS"])))
        event.listen(engine, "handle_error", _discard_sqlite_connection)

    @app.teardown_request
    def _rollback_failed_request(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()

    app.register_error_handler(OperationalError, _database_busy)


def _private_sqlite_files(database: str | None) -> Callable[..., None]:
    """Make the database file 0600 before SQLite opens it (its -wal and -shm files take the
    database's mode), and tighten the files of a database made before this rule."""
    done = False

    def make_private(*_args: Any) -> None:
        nonlocal done
        if done or not database or database == ":memory:" or database.startswith("file:"):
            return
        path = Path(database)
        private_file(path)
        for suffix in ("-wal", "-shm", "-journal"):
            tighten_file(path.with_name(path.name + suffix))
        done = True

    return make_private


def _sqlite_pragmas(busy_timeout: int) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout:d}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # What a change or a deletion frees is overwritten with zeros, not left in the file's
        # free pages: a withdrawn signer's name or a purged value does not linger there.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return set_pragmas


def _discard_sqlite_connection(context: ExceptionContext) -> None:
    # When SQLite refuses a COMMIT ("database is locked") the transaction stays open on the
    # driver's connection, and the pool may hand that connection to the next request, which
    # would then commit rows whose author was told they failed (notes/database.md, "ghost
    # commit"). Treating the error as a disconnect closes that one connection, and closing
    # rolls the transaction back.
    if isinstance(context.original_exception, sqlite3.OperationalError):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


def _database_busy(_exc: OperationalError) -> Any:
    from campaign.errors import render_error
    from campaign.security_log import log_security_event

    db.session.rollback()
    log_security_event("database.busy")
    return render_error(503)


def after_commit(callback: Callable[[], None]) -> None:
    """Call `callback` once the session's current transaction commits; never if it rolls back.

    For what must not happen before the change is visible to others (another process reading
    the database in between would see the old rows).
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the callback belongs to this transaction, not to a later one
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    # Also sent when a savepoint is released: only the outermost transaction's commit counts.
    if session.in_nested_transaction():
        return
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_transaction_end")
def _forget_after_commit(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the list is already empty; after a rollback (or a close) it is dropped.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


@contextmanager
def savepoint() -> Iterator[None]:
    """Run the block in a savepoint of the session's transaction: an error leaves the rest.

    On SQLite, Python's driver begins a transaction only before a write, so a SAVEPOINT with
    nothing written yet would be a transaction of its own, committed when it is released,
    whatever the session does next; a transaction is begun first.
    """
    session = db.session()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN")
    with session.begin_nested():
        yield


def lock_row(entity: Any) -> bool:
    """Hold a loaded object's row until the transaction ends, then read it afresh; return
    False (and read nothing) if the row is gone meanwhile.

    A write that changes nothing: PostgreSQL locks the row, SQLite the database. Another
    transaction doing the same waits until this one commits, then reads what it wrote, so
    checks made after this call cannot be overtaken by a concurrent change.
    """
    mapper = inspect(entity).mapper
    [key] = mapper.primary_key
    # Columns with an onupdate default are set to themselves too, so that nothing changes.
    unchanged = [key, *(column for column in mapper.local_table.c if column.onupdate is not None)]
    held = db.session.execute(
        update(mapper.local_table)
        .where(key == inspect(entity).identity[0])
        .values({column.name: column for column in unchanged})
    )
    if held.rowcount != 1:
        return False
    db.session.refresh(entity)
    return True
