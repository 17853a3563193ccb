"""Fixtures for signing: a published appeal, a drawn signature, and a form filler."""

import base64
import io

import pytest
from PIL import Image, ImageDraw

from campaign.appeals.operations import publish_appeal
from campaign.extensions import db


@pytest.fixture
def app_config():
    # The minimum fill time has its own test; elsewhere forms are sent at once.
    return {"SIGN_MIN_SECONDS": 0}


@pytest.fixture
def open_appeal(make_appeal):
    """A published appeal in Russia, in English."""
    appeal = make_appeal(goal=100, country="RU")
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    return appeal


def png_bytes(width=300, height=100, **save):
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 80), (60, 20), (120, 70), (200, 30)], fill="black", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


def data_url(data):
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.fixture
def drawn():
    return data_url(png_bytes())


def form_values(client, appeal, headers=None):
    """What the page fetches after it loads to make its form the visitor's: {csrf_token,
    started}; empty where the appeal page is not there (moved, closed, a draft)."""
    response = client.get(f"/a/{appeal.slug}/form", headers=headers or {})
    return response.get_json() if response.status_code == 200 else {}


@pytest.fixture
def sign(client):
    """Post the sign form of an appeal with sensible values, overridden by keyword."""

    def post(appeal, follow=False, headers=None, **overrides):
        client.get(f"/a/{appeal.slug}", headers=headers or {})
        values = form_values(client, appeal, headers)
        checks_tokens = client.application.config["WTF_CSRF_ENABLED"]
        data = {
            "started": values.get("started", ""),
            # Where tokens are checked, her page view's (tests of tokens pass their own).
            "csrf_token": values.get("csrf_token", "") if checks_tokens else None,
            "surname": "Naloeva",
            "given_name": "Madina",
            "patronymic": "",
            "region": "RU-CE",
            "region_other": "",
            "town": "Grozny",
            "relationship": "mother",
            "relative_name": "Islam Naloev",
            "relative_location": "Baghdad, Rusafa prison",
            "children": "2",
            "email": "madina@example.org",
            "signature": data_url(png_bytes()),
            "typed_signature": "",
            "helper_name": "",
            "display": "full",
            "consent": "y",
            "leave_empty": "",
        }
        data.update(overrides)
        data = {key: value for key, value in data.items() if value is not None}
        return client.post(
            f"/a/{appeal.slug}", data=data, headers=headers or {}, follow_redirects=follow
        )

    return post
