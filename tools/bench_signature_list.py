"""Benchmark the desk's signature list and its search at 100,000 signatures.

For each N (LIST_BENCH_SIZES, default 100000) it fills a throw-away database with N fictional
signatories of one appeal (campaign.demo_signatories, names of the North Caucasus; one in
twenty flagged, one in fifty rejected), on SQLite and, when PostgreSQL answers on
BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), on a new
database there too. Then, in a fresh process, it times the list page as an editor gets it
(the form, the query, the template; the login check is left out) for several queries, and
prints the median of RUNS requests for each. Goal (issue 23): under 100 ms each at 100,000.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(n) for n in os.environ.get("LIST_BENCH_SIZES", "100000").split(",")]
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RUNS = 7

# What an organiser asks of the list (the query string of the page).
QUERIES = {
    "newest first": "",
    "next page (keyset)": "after={after}",
    "by surname": "sort=surname",
    "search Latin 'naloeva'": "q=naloeva",
    "search Cyrillic 'Айша'": "q=%D0%90%D0%B9%D1%88%D0%B0",
    "search two words": "q=madina+nal",
    "two common words, none together": "q=madina+aisha",
    "flagged, one region": "status=flagged&region=RU-DA",
    "one relationship, dates": "relationship=%D0%BC%D0%B0%D1%82%D1%8C&signed_from=2026-01-01",
}


def fill(database: str, count: int) -> None:
    """Create the appeal and its N fictional signatures."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from campaign import create_app
    from campaign.accounts.models import User
    from campaign.appeals.operations import AddresseeData, AppealData, create_appeal, publish_appeal
    from campaign.clock import utcnow
    from campaign.demo_signatories import fictional_signatories
    from campaign.extensions import db
    from campaign.signatures.models import Signature, SignatureStatus
    from campaign.signatures.name_words import index_new_signatures
    from campaign.signatures.names import fold_name

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        # No one logs in as the bench's organiser: the hash is not a password hash.
        user = User(name="Bench", email="bench@example.org", password_hash="-", language="ru")  # noqa: S106
        db.session.add(user)
        db.session.flush()
        appeal = create_appeal(
            user,
            AppealData(
                title="Bench",
                language="ru",
                country="RU",
                addressees=(AddresseeData("Президенту", "Администрация"),),
                body="Текст",
                closing="С уважением",
            ),
        )
        version = publish_appeal(appeal, user, seen_revision=appeal.draft_revision)
        now = utcnow()
        rows = []
        for n, person in enumerate(fictional_signatories(count)):
            status = SignatureStatus.valid
            if n % 20 == 0:
                status = SignatureStatus.flagged
            elif n % 50 == 1:
                status = SignatureStatus.rejected
            rows.append(
                {
                    "appeal_id": appeal.id,
                    "version_id": version.id,
                    "status": status,
                    "created_at": now - person.age,
                    "surname": person.surname,
                    "given_name": person.given_name,
                    "patronymic": person.patronymic,
                    # A bulk insert skips the ORM's listeners: the key is made here.
                    "name_key": fold_name(person.surname, person.given_name, person.patronymic),
                    "region": person.region,
                    "town": person.town,
                    "relationship": person.relationship,
                    "relative_name": person.relative_name,
                    "relative_location": person.relative_location,
                    "children": person.children,
                    "display": person.display,
                    "email": f"signer{n}@example.org" if n % 3 else None,
                    "phone": f"+7928{n:07d}" if n % 4 == 0 else None,
                }
            )
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Signature.__table__), rows[start : start + 5000])
        index_new_signatures(appeal.id, after_id=0)  # the search's words, as an import does
        db.session.commit()
        # Statistics for the planner, as autovacuum would have them by now (PostgreSQL's
        # VACUUM also fills the visibility map that index-only scans read). Outside a
        # transaction: a rolled-back ANALYZE leaves the planner guessing (500 rows, not 100,000).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if db.engine.dialect.name == "postgresql":
                connection.exec_driver_sql("VACUUM ANALYZE")
            else:
                connection.exec_driver_sql("ANALYZE")
        print(f"{len(rows):,} signatures")


def run(database: str) -> None:
    """Time each query of the list page in this (fresh) process."""
    from flask import g

    from campaign import create_app
    from campaign.accounts.models import Membership
    from campaign.appeals.models import Appeal
    from campaign.extensions import db
    from campaign.signatures.desk_forms import list_query, signatures_list_form
    from campaign.signatures.listing import PAGE_SIZE, Query, list_page

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench"})
    # The view without its login check: requires_role(login_required(view)).
    view = app.view_functions["appeals.signatures"].__wrapped__.__wrapped__
    with app.app_context():
        appeal = db.session.get(Appeal, 1)
        after = list_page(appeal, Query()).after
        membership = db.session.query(Membership).filter_by(appeal_id=1).one()
        for label, query in QUERIES.items():
            path = "/appeals/1/signatures?" + query.format(after=after)
            times, queries, shown = [], [], 0
            for _ in range(RUNS):
                with app.test_request_context(path, headers={"Accept-Language": "ru"}):
                    g.membership = membership
                    started = time.perf_counter()
                    page = view(appeal=db.session.get(Appeal, 1))
                    times.append(time.perf_counter() - started)
                    shown = page.count('name="signature"')
                db.session.remove()
                with app.test_request_context(path, headers={"Accept-Language": "ru"}):
                    # The query alone: the same page, without the form's and template's work.
                    current = db.session.get(Appeal, 1)
                    form = signatures_list_form(current, "ru")
                    if not form.validate():
                        raise SystemExit(f"{label}: {form.errors}")
                    started = time.perf_counter()
                    list_page(
                        current,
                        list_query(form),
                        after=after if "after" in query else None,
                        private=True,
                    )
                    queries.append(time.perf_counter() - started)
                db.session.remove()
            total = statistics.median(times) * 1000
            alone = statistics.median(queries) * 1000
            print(
                f"  {label:<28} {total:7.1f} ms page, {alone:6.1f} ms query "
                f"({shown} of at most {PAGE_SIZE} shown)"
            )


def _postgresql() -> tuple[str, str] | None:
    """A new empty database on the server, or None when none answers."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"campaign_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no server: the bench runs on SQLite only
        return None
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    return url, name


def _drop(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    """Fill a database per size and engine, and time the list in a fresh process."""
    for count in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            database = f"sqlite:///{folder}/bench.sqlite"
            print(f"SQLite, N = {count:,}: ", end="", flush=True)
            subprocess.run([sys.executable, __file__, "fill", database, str(count)], check=True)
            subprocess.run([sys.executable, __file__, "run", database], check=True)
        server = _postgresql()
        if server is None:
            print("No PostgreSQL at BENCH_PG_URL: SQLite only.")
            continue
        database, name = server
        try:
            print(f"PostgreSQL, N = {count:,}: ", end="", flush=True)
            subprocess.run([sys.executable, __file__, "fill", database, str(count)], check=True)
            subprocess.run([sys.executable, __file__, "run", database], check=True)
        finally:
            _drop(name)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 1:
        main()
    elif sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2])
