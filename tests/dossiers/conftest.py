"""Fixtures for dossiers: a published Russian appeal and signatures made without the web form."""

import io
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw

from campaign.appeals.operations import publish_appeal
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.images import clean_png
from campaign.signatures.models import Display
from campaign.signatures.operations import SignData, sign_appeal


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


def signature_png(seed: int) -> bytes:
    """A distinct drawn signature per seed."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    points = [(10 + 40 * i, 20 + (seed * 37 + i * 53) % 60) for i in range(7)]
    ImageDraw.Draw(image).line(points, fill="black", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def make_signature():
    """Sign an appeal directly through the operation; keywords override SignData fields."""
    counter = iter(range(1, 100_000))

    def make(appeal, *, drawn=True, **overrides):
        n = next(counter)
        values = {
            "surname": f"Налоева-{n}",
            "given_name": "Мадина",
            "patronymic": "Руслановна",
            "region": "RU-CE",
            "town": "Грозный",
            "relationship": "мать",
            "relative_name": f"Ислам Налоев {n}",
            "relative_location": "Багдад, тюрьма Русафа",
            "children": 2,
            "email": f"signer{n}@example.org",
            "display": Display.full,
            "image": clean_png(signature_png(n)) if drawn else None,
        }
        values.update(overrides)
        outcome = sign_appeal(appeal, SignData(**values), consent="Согласие", confirm_within=None)
        db.session.commit()
        return outcome.signature

    return make


def back_date(signature, days):
    signature.created_at = utcnow() - timedelta(days=days)
    db.session.commit()
