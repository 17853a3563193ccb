"""Rows written as an earlier schema has them, for the tests of migrations."""

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Enum, Integer, insert


def insert_row(connection, metadata, table, **values):
    """Insert a row as the schema of the time has it (reflected in metadata): required columns
    not given get a neutral value of their type. Return its primary key."""
    columns = metadata.tables[table].columns
    for column in columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and isinstance(column.type, Integer):
            continue
        if isinstance(column.type, Enum):
            raise AssertionError(f"give {table}.{column.name}")
        if isinstance(column.type, DateTime):
            values[column.name] = datetime(2026, 11, 1, 10, tzinfo=UTC)
        elif isinstance(column.type, Boolean):
            values[column.name] = False
        elif isinstance(column.type, JSON):
            values[column.name] = []
        elif isinstance(column.type, Integer):
            values[column.name] = 0
        else:
            values[column.name] = ""
    result = connection.execute(insert(metadata.tables[table]).values(**values))
    return result.inserted_primary_key[0]


def insert_appeal(connection, metadata):
    """An open English appeal and its first version; return their ids."""
    appeal = insert_row(
        connection, metadata, "appeal", slug="old", status="open", language="en", title="T"
    )
    version = insert_row(
        connection, metadata, "appeal_version", appeal_id=appeal, number=1, language="en"
    )
    return appeal, version


def insert_signer(connection, metadata, appeal, version, n, **values):
    """A valid signature of the appeal's first version, named after n; return its id."""
    return insert_row(
        connection,
        metadata,
        "signature",
        appeal_id=appeal,
        version_id=version,
        status="valid",
        display="full",
        surname=f"Naloeva-{n}",
        given_name="Madina",
        **values,
    )
