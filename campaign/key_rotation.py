"""`flask keys ...`: rotate the data keys that seal private data, in batches that resume.

Every sealed column of every model (campaign.crypto.sealed_columns) is covered, whatever
domain declares it. A rotation makes a new key current, then reseals, table by table and in
key order, the values another key sealed, committing each batch: stopped at any point (a
crash, Ctrl-C), it is resumed by running it again, which finds the values still to do by the
key id at their head. The application keeps working meanwhile: it reads the key file again
when it meets a key it does not know, and at most a second after the file changes.
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    and_,
    func,
    literal,
    or_,
    select,
    table,
    tuple_,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.sql.elements import ColumnElement

from campaign.crypto import (
    HEADER_BYTES,
    Keyring,
    data_keys,
    format_key_id,
    header_of,
    key_id_of,
    new_key_line,
    sealed_columns,
)
from campaign.extensions import db

keys_cli = AppGroup("keys", help="The data keys that seal private data at rest.")

DEFAULT_BATCH = 500


def _raw(sealed: Table, columns: list[Column[Any]]) -> Table:
    """The table with its key and sealed columns as plain bytes: values as they are stored."""
    keys = [sql_column(key.name, key.type) for key in sealed.primary_key.columns]
    return table(sealed.name, *keys, *(sql_column(c.name, LargeBinary) for c in columns))


def _head(raw_column: ColumnElement[Any]) -> ColumnElement[bytes]:
    return func.substr(raw_column, 1, HEADER_BYTES, type_=LargeBinary)


def reseal_batch(
    sealed: Table,
    columns: list[Column[Any]],
    keyring: Keyring,
    *,
    after: tuple[Any, ...] | None,
    size: int = DEFAULT_BATCH,
) -> tuple[tuple[Any, ...] | None, int]:
    """Reseal under the current key the next `size` rows after the key `after` that another
    key sealed (in key order); return the last row's key (None when none is left) and how many
    rows were resealed.

    Flushes, never commits. A row changed meanwhile by someone else is left as they wrote it.
    """
    raw = _raw(sealed, columns)
    keys = [raw.c[key.name] for key in sealed.primary_key.columns]
    current = literal(header_of(keyring.current_id), LargeBinary)
    stale = or_(
        *(and_(raw.c[c.name].is_not(None), _head(raw.c[c.name]) != current) for c in columns)
    )
    query = select(*keys, *(raw.c[c.name] for c in columns)).where(stale)
    if after is not None:
        query = query.where(tuple_(*keys) > tuple_(*after))
    rows = db.session.execute(query.order_by(*keys).limit(size)).all()
    for row in rows:
        found = dict(zip((c.name for c in columns), row[len(keys) :], strict=True))
        changed = {}
        for column in columns:
            value = found[column.name]
            if value is not None and key_id_of(value) != keyring.current_id:
                context = column.type.context
                changed[column.name] = keyring.encrypt(keyring.decrypt(value, context), context)
        unchanged = [
            raw.c[name].is_(None) if value is None else raw.c[name] == value
            for name, value in found.items()
        ]
        where = [key == value for key, value in zip(keys, row, strict=False)]
        db.session.execute(update(raw).where(*where, *unchanged).values(changed))
    db.session.flush()
    return (tuple(rows[-1][: len(keys)]) if rows else None), len(rows)


def key_usage() -> dict[str, Counter[int]]:
    """Count the stored values of each sealed column ("table.column") by the key that sealed
    them."""
    usage: dict[str, Counter[int]] = {}
    for sealed, columns in sealed_columns(db.metadata):
        raw = _raw(sealed, columns)
        for column in columns:
            head = _head(raw.c[column.name])
            rows = db.session.execute(
                select(head, func.count()).where(raw.c[column.name].is_not(None)).group_by(head)
            )
            counts: Counter[int] = Counter()
            for found, count in rows:
                counts[key_id_of(bytes(found))] += count
            usage[f"{sealed.name}.{column.name}"] = counts
    return usage


def reseal_everything(
    keyring: Keyring, size: int, done: Callable[[str, int], None] | None = None
) -> int:
    """Reseal every value another key sealed under the current key, committing each batch;
    return how many rows were resealed. Safe to run again after any interruption."""
    total = 0
    for sealed, columns in sealed_columns(db.metadata):
        after: tuple[Any, ...] | None = None
        while True:
            after, count = reseal_batch(sealed, columns, keyring, after=after, size=size)
            db.session.commit()
            if after is None:
                break
            total += count
            if done is not None:
                done(sealed.name, count)
    return total


def _stale_count(usage: dict[str, Counter[int]], current: int) -> int:
    return sum(n for counts in usage.values() for key, n in counts.items() if key != current)


@keys_cli.command("status")
def status_command() -> None:
    """Show the keys and how many stored values each one sealed."""
    source = data_keys()
    keyring = source.keyring(fresh=True)
    where = str(source.path) if source.from_file else "the DATA_KEYS setting"
    click.echo(f"Keys from {where}; {format_key_id(keyring.current_id)} seals new values.")
    for name, counts in key_usage().items():
        listed = ", ".join(f"{format_key_id(k)}: {n}" for k, n in sorted(counts.items()))
        click.echo(f"  {name}: {listed or 'no values'}")


@keys_cli.command("rotate")
@click.option(
    "--batch-size",
    default=DEFAULT_BATCH,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Rows resealed per transaction.",
)
def rotate_command(batch_size: int) -> None:
    """Make a new key current and reseal every value under it; run again to resume."""
    source = data_keys()
    keyring = source.keyring(fresh=True)
    usage = key_usage()
    unknown = {key for counts in usage.values() for key in counts} - set(keyring.ids)
    if unknown:
        names = ", ".join(format_key_id(key) for key in sorted(unknown))
        raise click.ClickException(f"Values are sealed with keys this installation lacks: {names}.")
    stale = _stale_count(usage, keyring.current_id)
    if stale:
        click.echo(
            f"Resuming: {stale} value(s) are not sealed with the current key "
            f"{format_key_id(keyring.current_id)} yet."
        )
    elif source.from_file:
        keyring = keyring.with_new_key()
        source.replace(keyring)
        click.echo(f"New key {format_key_id(keyring.current_id)} seals from now on.")
    else:
        raise click.ClickException(
            f"Every value is sealed with {format_key_id(keyring.current_id)}, the first key of "
            "DATA_KEYS. To rotate: put a new key (flask keys new) first in DATA_KEYS, keep the "
            "others after it, restart the application, and run this again."
        )

    def done(name: str, count: int) -> None:
        click.echo(f"  {name}: {count} row(s) resealed")

    total = reseal_everything(keyring, batch_size, done)
    click.echo(f"{total} row(s) resealed.")
    left = _stale_count(key_usage(), keyring.current_id)
    if left:
        raise click.ClickException(
            f"{left} value(s) were written with an older key meanwhile; run this again."
        )
    old = ", ".join(format_key_id(key) for key in keyring.ids[1:]) or "none"
    click.echo(
        f"Every value is sealed with {format_key_id(keyring.current_id)}. Older keys: {old}; "
        "`flask keys retire` drops them once no backup you keep needs them."
    )


@keys_cli.command("retire")
def retire_command() -> None:
    """Drop the keys that seal no stored value (never the current one)."""
    source = data_keys()
    keyring = source.keyring(fresh=True)
    used = {key for counts in key_usage().values() for key in counts}
    unused = [key for key in keyring.ids[1:] if key not in used]
    if not unused:
        click.echo("No key to retire: every older key still seals some value.")
        return
    names = ", ".join(format_key_id(key) for key in unused)
    if not source.from_file:
        click.echo(f"No value is sealed with {names}: remove them from DATA_KEYS.")
        return
    source.replace(keyring.without(unused))
    click.echo(f"Retired {names}: a backup made with them can no longer be read.")


@keys_cli.command("new")
def new_command() -> None:
    """Print a new random key, written as DATA_KEYS takes it ("id:key")."""
    click.echo(new_key_line())
