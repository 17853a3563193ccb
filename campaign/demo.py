"""`flask demo load`: a demo organiser, an open appeal modelled on the 2018 letter, signatories."""

import secrets
import time
from datetime import datetime, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.accounts.models import User
from campaign.accounts.operations import hash_password, sign_up
from campaign.appeals.models import Appeal
from campaign.appeals.operations import AddresseeData, AppealData, create_appeal, publish_appeal
from campaign.clock import utcnow
from campaign.demo_signatories import WINDOW, replace_demo_signatories
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import discard_file, make_snapshot
from campaign.extensions import db
from campaign.submissions.models import Channel, Submission
from campaign.submissions.operations import SubmissionData, record_submission
from campaign.time_zones import end_of_day, local_date, today_in
from campaign.urls import public_url_for

demo_cli = AppGroup("demo", help="Demo data.")

DEMO_EMAIL = "demo@example.org"
DEMO_SLUG = "vernite-nashikh-detei"
# The demo dossier was sent this many days ago, made that morning at this local time.
SENT_DAYS_AGO = 9
MADE_AT = timedelta(hours=9)

DEMO_BODY = """\
Уважаемый Владимир Владимирович!

Мы, матери, жёны, сёстры и бабушки из Чечни, Дагестана, Кабардино-Балкарии и других \
регионов Северного Кавказа, обращаемся к Вам с просьбой о помощи.

Наши сыновья, мужья, дочери, невестки и внуки находятся в тюрьмах Республики Ирак. Среди них \
есть маленькие дети, которые родились там и никогда не видели дома. Мы не знаем, здоровы ли \
они, получают ли они помощь адвоката и понимают ли они язык, на котором их судят.

## Наша просьба

1. Вернуть наших родственников в Российскую Федерацию.
2. Рассматривать их дела в российских судах, по российскому закону и с участием защитников.
3. Передать детей их родным, которые готовы их принять и воспитать.

Между СССР и Иракской Республикой в 1973 году заключён **Договор о правовой помощи по \
гражданским, семейным и уголовным делам**. Российская Федерация является его \
правопреемником. Мы просим использовать предусмотренные им механизмы, чтобы наши родные \
предстали перед судом на родине.

> Мы не просим освободить виновных. Мы просим, чтобы их судили дома, открыто и по закону.

Мы будем благодарны за любой ответ и готовы предоставить сведения о каждом из наших родных."""


@demo_cli.command("load")
@click.option(
    "--signatories",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Fictional signatories the demo appeal ends up with (replacing earlier ones).",
)
def load(signatories: int) -> None:
    """Create the demo organiser and appeal if missing, give it signatories, print the login."""
    started = time.perf_counter()
    password = secrets.token_urlsafe(9)
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = sign_up(
            name="Организатор демо",
            email=DEMO_EMAIL,
            password=password,
            language="ru",
            confirmed=True,
        )
    else:
        user.password_hash = hash_password(password)
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == DEMO_SLUG))
    if appeal is None:
        appeal = create_appeal(
            user,
            AppealData(
                title="Верните наших детей домой: открытое письмо матерей Северного Кавказа",
                slug=DEMO_SLUG,
                language="ru",
                country="RU",
                addressees=(
                    AddresseeData(
                        "Путину Владимиру Владимировичу", "Президенту Российской Федерации"
                    ),
                ),
                body=DEMO_BODY,
                closing="С надеждой и уважением, матери и родные",
                representative_name="Иванова Мадина Руслановна",
                representative_address="364000, Чеченская Республика, г. Грозный, а/я 0",
                goal=100,
            ),
        )
        version = publish_appeal(appeal, user, seen_revision=appeal.draft_revision)
        # Published before the oldest demo signature, which may be WINDOW old.
        appeal.created_at = version.published_at = utcnow() - WINDOW - timedelta(days=1)
    handed_in: float | None = None  # seconds, when the demo hands its dossier in now
    if db.session.scalar(select(Submission.id).where(Submission.appeal_id == appeal.id)) is None:
        # Handed in on sent_on with the signatures made by then: the dossier is made (and
        # dated) at that moment, before the later ones are stored.
        sent_on = today_in(appeal.time_zone) - timedelta(days=SENT_DAYS_AGO)
        made_at = end_of_day(sent_on - timedelta(days=1), appeal.time_zone) + MADE_AT

        def hand_in() -> None:
            nonlocal handed_in
            start = time.perf_counter()
            _submit(appeal, user, made_at)
            handed_in = time.perf_counter() - start

        replace_demo_signatories(appeal, signatories, pause_at=made_at, pause=hand_in)
    else:
        replace_demo_signatories(appeal, signatories)
    db.session.commit()
    took = time.perf_counter() - started
    render = "" if handed_in is None else f", the dossier handed in {handed_in:.1f} s"
    click.echo(f"Demo signatories: {signatories} ({took:.1f} s{render})")
    click.echo(f"Demo appeal:     {public_url_for('signatures.new', slug=appeal.slug)}")
    click.echo(f"Organiser login: {public_url_for('accounts.login')}")
    click.echo(f"  email: {DEMO_EMAIL}  password: {password}")


def _submit(appeal: Appeal, user: User, made_at: datetime) -> None:
    """Hand the demo dossier in: sent, received and registered, its answer's clock running.

    It is made at `made_at`, on the day it is sent, of the signatures stored by then.
    """
    db.session.commit()  # its render reads what is committed
    snapshot = make_snapshot(appeal, Edition.submission, user=user, made_at=made_at)
    try:
        db.session.commit()
    except Exception:
        discard_file(snapshot)
        raise
    today = today_in(appeal.time_zone)
    record_submission(
        appeal,
        SubmissionData(
            snapshot_id=snapshot.id,
            addressee=appeal.latest_version.addressees[0]["name"]
            + ", "
            + appeal.latest_version.addressees[0]["office"],
            channel=Channel.online,
            sent_on=local_date(made_at, appeal.time_zone),
            received_on=today - timedelta(days=8),
            registration_number="А-26-0012345",
            registered_on=today - timedelta(days=6),
            registration_public=True,
        ),
        user,
    )
    appeal.listed = True
    db.session.commit()
