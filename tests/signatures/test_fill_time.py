"""The minimum fill time across a refused form: it counts from her page's first showing."""

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.signatures.form_stamps import FillTimer
from campaign.signatures.models import Signature
from tests.signatures.conftest import form_values
from tests.signatures.test_sign_form import publish_a_second_text


@pytest.fixture
def app_config():
    return {"SIGN_MIN_SECONDS": 3}


@pytest.fixture
def shown_a_while_ago(client, open_appeal, monkeypatch):
    """The stamp of her page as it was shown ten seconds ago."""
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 10)
        return form_values(client, open_appeal)["started"]


def stamp_on(html):
    return re.search(r'name="started" type="hidden" value="([^"]*)"', html).group(1)


def stored():
    return db.session.scalar(select(func.count()).select_from(Signature))


def test_a_form_corrected_and_sent_at_once_after_a_refusal_is_taken(
    open_appeal, sign, shown_a_while_ago
):
    refused = sign(open_appeal, started=shown_a_while_ago, consent=None)
    html = refused.get_data(as_text=True)
    assert "Signing needs your consent" in html
    assert stamp_on(html) == shown_a_while_ago  # as her browser sends it back

    assert sign(open_appeal, started=stamp_on(html)).status_code == 302
    assert stored() == 1


def test_a_form_refused_as_too_quick_keeps_its_stamp(client, open_appeal, sign):
    shown = form_values(client, open_appeal)["started"]
    too_quick = sign(open_appeal, started=shown)
    html = too_quick.get_data(as_text=True)
    assert "The form was sent very quickly" in html
    assert stamp_on(html) == shown  # so that it is not refused again once she has read


def test_after_a_new_text_the_stamp_keeps_its_moment_with_the_new_version(
    app, open_appeal, sign, shown_a_while_ago
):
    publish_a_second_text(open_appeal)
    refused = sign(open_appeal, started=shown_a_while_ago)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "changed while you were reading" in html
    started = FillTimer(app.config["SECRET_KEY"]).read(stamp_on(html))
    assert started.version == 2 and started.seconds >= 9

    assert sign(open_appeal, started=stamp_on(html)).status_code == 302
    assert stored() == 1


@pytest.mark.parametrize("sent", ["", "forged.stamp.value"])
def test_a_missing_or_forged_stamp_is_not_kept(app, open_appeal, sign, sent):
    refused = sign(open_appeal, started=sent, consent=None)
    kept = stamp_on(refused.get_data(as_text=True))
    assert kept != sent
    started = FillTimer(app.config["SECRET_KEY"]).read(kept)
    assert started is not None and started.seconds < 3  # a fresh one, as before
    assert sign(open_appeal, started=kept).status_code == 200  # and still too quick
    assert stored() == 0
