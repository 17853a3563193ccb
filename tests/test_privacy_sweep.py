"""The sweep: distinctive values planted in every private field (and in the relative's details
of signers who did not agree to show them) are found on no public surface, in no log line and
in no URL requested (issue 25)."""

import base64
import io
import logging
import re

import pytest
from flask import request_started

from campaign.dossiers.models import Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.extensions import db
from campaign.signatures.models import Display, Signature
from campaign.signatures.settings import sign_form_settings
from tests import private_values as planted
from tests.conftest import signature_png
from tests.dossiers.pdftools import attachments, page_texts, xmp
from tests.signatures.conftest import form_values

# Not private fields, but private unless she agrees (signatures.audience): planted too.
TOWN = "Planted-Town-Vb52"
RELATIVE = "Planted-Relative-Hn64"
HIDDEN_SURNAME = "Planted-Hidden-Surname-Lp29"
# What the public may read: found, so the sweep can find things.
AGREED_RELATIVE = "Shown-Relative-Ok11"


@pytest.fixture
def app_config(tmp_path):
    return {
        "DOSSIER_FOLDER": str(tmp_path / "dossiers"),
        "DOSSIER_PROCESSES": 1,
        "DOSSIER_SIGNING_CERT": str(tmp_path / "no-certificate.p12"),
        "SIGN_MIN_SECONDS": 0,
    }


@pytest.fixture
def requested(app):
    """Every URL the application is asked for during the test."""
    urls = []

    def record(sender, **extra):
        from flask import request

        urls.append(request.url)

    request_started.connect(record, app)
    yield urls
    request_started.disconnect(record, app)


def _sign_on_the_page(client, appeal, private_q, public_q):
    client.get(f"/a/{appeal.slug}")
    started = form_values(client, appeal)["started"]  # as the page's script fetches it
    data = {
        "started": started,
        "surname": "Naloeva",
        "given_name": "Madina",
        "region": "RU-CE",
        "town": TOWN,
        "relationship": "mother",
        "relative_name": RELATIVE,
        "relative_location": "Baghdad",
        "children": "2",
        "email": planted.EMAIL,
        "phone": planted.PHONE,
        "postal_address": planted.POSTAL_ADDRESS,
        "on_behalf": "y",
        "helper_name": planted.HELPER,
        f"q{private_q}": planted.PRIVATE_ANSWER,
        f"q{public_q}": planted.PUBLIC_ANSWER,
        "signature": "data:image/png;base64," + base64.b64encode(signature_png(7)).decode(),
        "display": "initials",  # and the relative's details not agreed
        "consent": "y",
        "leave_empty": "",
    }
    # A refused form first (a damaged image): its error path logs too.
    refused = client.post(
        f"/a/{appeal.slug}", data={**data, "signature": "data:image/png;base64,AAAA"}
    )
    assert refused.status_code != 302  # refused: the form again, nothing stored
    response = client.post(f"/a/{appeal.slug}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _private(signature):
    """Her private values; the answer to the public question is public (the form says so)."""
    values = planted.private_values(signature)
    values["answers"] = [a for a in values["answers"] if a != planted.PUBLIC_ANSWER]
    return values


def test_no_planted_value_on_any_public_surface_in_logs_or_urls(
    app, client, make_published_appeal, caplog, security_log, requested
):
    caplog.set_level(logging.DEBUG)
    appeal = make_published_appeal(country="RU")
    private_q, public_q = planted.ask_everything(appeal)
    signed = _sign_on_the_page(client, appeal, private_q, public_q)
    thanks = client.get(signed.headers["Location"])
    assert thanks.status_code == 200
    on_the_page = db.session.scalars(db.select(Signature)).one()
    hidden = planted.plant(appeal, n=2, surname=HIDDEN_SURNAME, display=Display.hidden,
                           town=TOWN, relative_name=RELATIVE, relative_public=True)  # fmt: skip
    # Her full name shown, her relative's details not agreed (the public edition printed them).
    named = planted.plant(appeal, n=3, display=Display.full, town=TOWN, relative_name=RELATIVE,
                          children=7)  # fmt: skip
    planted.plant(appeal, n=4, display=Display.full, relative_name=AGREED_RELATIVE,
                  relative_public=True)  # fmt: skip
    values = {
        **{f"web {k}": v for k, v in _private(on_the_page).items()},
        **{f"hidden {k}": v for k, v in _private(hidden).items()},
        **{f"named {k}": v for k, v in _private(named).items()},
        "town": TOWN,
        "relative not agreed": RELATIVE,
        "hidden signer": HIDDEN_SURNAME,
    }
    needles = planted.needles(values)
    # Per signer: email and mailbox, phone and digits, address, helper, image, answer.
    assert len(needles) == 3 * 8 + 3

    # The public edition, as anyone downloading it reads it.
    snapshot = make_snapshot(appeal, Edition.public, user=None)
    db.session.commit()
    pdf = snapshot_path(snapshot).read_bytes()
    surfaces: dict[str, bytes] = {
        "public edition (text)": " ".join(page_texts(pdf)).encode(),
        "public edition (file)": pdf,
        "public edition (CSV)": attachments(pdf)["signatories.csv"],
        "public edition (XMP)": xmp(pdf).encode(),
    }
    # Whitespace dropped too: a value broken over two lines of a cell is still found.
    surfaces["public edition (text, joined)"] = b"".join(surfaces["public edition (text)"].split())
    # The public pages.
    appeal.listed = True  # on the home page and in /a.json too
    db.session.commit()
    first = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    paths = ["/", "/privacy", f"/a/{appeal.slug}", f"/a/{appeal.slug}/qr.svg", "/verify/",
             f"/verify/{snapshot.id}",
             f"/a/{appeal.slug}?before=2999-01-01T00:00:00+00:00_0123456789abcdef",
             f"/a/{appeal.slug}.json", "/a.json", f"/a/{appeal.slug}/form"]  # fmt: skip
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        surfaces[path] = response.get_data()
    checked = client.post("/verify/", data={"fingerprint": snapshot.file_sha256})
    surfaces["/verify/ (a fingerprint checked)"] = checked.get_data()
    uploaded = client.post(f"/verify/{snapshot.id}", data={"pdf": (io.BytesIO(pdf), "copy.pdf")})
    surfaces["/verify/<id> (a copy checked)"] = uploaded.get_data()
    # A form sent with an expired token: the security log and the page it gets.
    app.config["WTF_CSRF_ENABLED"] = True
    # (The page it gets keeps what she typed, for her to send again: hers, not public.)
    expired = client.post(f"/a/{appeal.slug}", data={"email": planted.EMAIL, "csrf_token": "x"})
    app.config["WTF_CSRF_ENABLED"] = False
    assert expired.status_code == 400
    # Every address in the public pages, every redirect, every URL requested.
    links = re.findall(r'(?:href|src|action|content)="([^"]+)"', first)
    surfaces["URLs requested"] = "\n".join(requested).encode()
    surfaces["URLs in the public page"] = "\n".join(links).encode()
    surfaces["redirect"] = signed.headers["Location"].encode()
    surfaces["logs"] = caplog.text.encode()
    surfaces["security log"] = "\n".join(security_log).encode()

    found = [
        (what, where)
        for what, needle in needles.items()
        for where, data in surfaces.items()
        if needle in data
    ]
    assert found == [], found
    # The sweep finds what it looks for: what was agreed is public, the rest is in the
    # submission edition.
    assert AGREED_RELATIVE.encode() in surfaces["public edition (CSV)"]
    assert planted.PUBLIC_ANSWER.encode() in surfaces["public edition (CSV)"]
    assert "M. N." in first
    assert security_log, "the expired form was logged"
    submission = make_snapshot(appeal, Edition.submission, user=None)
    db.session.commit()
    submission_pdf = snapshot_path(submission).read_bytes()
    text = " ".join(page_texts(submission_pdf)).encode()
    for needle in (planted.HELPER.encode(), RELATIVE.encode(), b"Planted-Street"):
        assert needle in text
    assert TOWN.encode() in attachments(submission_pdf)["signatories.csv"]
    assert sign_form_settings(appeal).questions[0].private
