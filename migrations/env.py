import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import event

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _migrate_sqlite(connection, conf_args)
            return
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

        with context.begin_transaction():
            context.run_migrations()
        _compact_postgresql(connection)


def _compact_postgresql(connection):
    """Rewrite the tables a migration asked for (see _compact_sqlite), once it has committed.

    An UPDATE leaves the row's former version in the table's file until its space is reused;
    VACUUM FULL writes the live rows to new files, and it cannot run inside a transaction.
    """
    tables = sorted(connection.info.pop("campaign.compact", ()))
    if not tables:
        return
    connection.commit()
    autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
    for table in tables:
        autocommit.exec_driver_sql(f'VACUUM FULL "{table}"')


def _migrate_sqlite(connection, conf_args):
    """All pending migrations in one SQLite transaction, foreign keys off and checked.

    Batch mode rebuilds a table by copying, dropping and renaming it: with foreign keys on,
    dropping it would delete (ON DELETE CASCADE) every row referring to it; the pragma works
    only outside a transaction, so the keys are checked before the commit instead. Python's
    driver would commit each DDL statement on its own: it begins nothing here (isolation
    level None), and BEGIN is sent explicitly, so that a failure leaves nothing half done.
    """
    driver = connection.connection.driver_connection
    isolation = driver.isolation_level
    connection.commit()  # nothing of SQLAlchemy's own transaction before this
    driver.isolation_level = None
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()  # ends SQLAlchemy's transaction (the driver began none)
    begin = lambda conn: conn.exec_driver_sql("BEGIN")  # noqa: E731
    event.listen(connection, "begin", begin)
    try:
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            transactional_ddl=True,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"Migrations broke foreign keys: {broken[:5]}")
    finally:
        event.remove(connection, "begin", begin)
        connection.rollback()
        # The pooled connection goes back as the application expects it.
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        driver.isolation_level = isolation
    _compact_sqlite(connection)


def _compact_sqlite(connection):
    """Leave no copy of the values a committed migration replaced in the database's files.

    A migration that rewrites private values asks for it (connection.info "campaign.compact").
    secure_delete (campaign.database) zeroes what is freed in the database file; the pages
    written before still sit in the write-ahead log until it is overwritten: a checkpoint
    copies the log into the file and truncates it.
    """
    if not connection.info.pop("campaign.compact", None):
        return
    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
