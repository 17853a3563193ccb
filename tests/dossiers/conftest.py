"""Fixtures for dossiers: a published Russian appeal and signatures made without the web form."""

from datetime import timedelta

import pytest

from campaign.appeals.operations import publish_appeal
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import SignatureStatus


@pytest.fixture
def app_config(tmp_path):
    return {
        "DOSSIER_FOLDER": str(tmp_path / "dossiers"),
        "DOSSIER_PROCESSES": 2,
        "DOSSIER_TIME_LIMIT": 120,
        "PUBLIC_URL": "https://campaign.test",
        "TASK_QUEUE_IMMEDIATE": True,
        "DOSSIER_SIGNING_CERT": str(tmp_path / "no-certificate.p12"),
    }


LETTER = (
    "Мы, матери, жёны и сёстры, просим вернуть наших родных из Ирака "
    "и судить их на родине.\n\n"
    "> Договор 1973 года о взаимной правовой помощи.\n\n"
    "С уважением."
)


@pytest.fixture
def open_appeal(make_appeal):
    """A published appeal in Russian, with a representative (a private field)."""
    appeal = make_appeal(
        title="Обращение о возвращении наших родных",
        language="ru",
        body=LETTER,
        closing="С надеждой на ваше решение",
        representative_name="Зарема Представитель",
        representative_address="г. Грозный, ул. Мира, 1",
    )
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    return appeal


def back_date(signature, days):
    signature.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


@pytest.fixture
def signed_appeal(open_appeal, make_signature):
    """45 valid signatures (a few typed instead of drawn), one pending, one withdrawn."""
    for n in range(45):
        make_signature(
            open_appeal, drawn=n % 9 != 4, typed_signature="Подпись" if n % 9 == 4 else ""
        )
    pending = make_signature(open_appeal, surname="Ожидающая")
    pending.status = SignatureStatus.pending
    withdrawn = make_signature(open_appeal, surname="Отозвавшая")
    withdrawn.status = SignatureStatus.withdrawn
    db.session.commit()
    return open_appeal
