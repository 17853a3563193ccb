"""Many people signing at once: every signature stored once, and the count exact."""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from campaign.appeals.models import Appeal, AppealStatus
from campaign.appeals.operations import close_appeal, region_counts, signature_counts
from campaign.extensions import db
from campaign.signatures.models import Signature
from campaign.signatures.operations import AppealNotOpen, SignData, sign_appeal
from campaign.signatures.signer_links import TokenInvalid, confirm_signature, withdraw_signature
from tests.concurrency import while_the_first_holds
from tests.signatures.test_sign_form import body_of, messages, set_confirm


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None, "SIGN_MIN_SECONDS": 0, "SIGN_LIMIT_PER_IP": "1000 per hour"}


def started_stamp(base, slug):
    with urllib.request.urlopen(f"{base}/a/{slug}/form", timeout=30) as response:
        return json.loads(response.read())["started"]


def post_signature(base, slug, started, n, email, surname=None):
    data = urllib.parse.urlencode(
        {
            "started": started,
            "surname": surname or f"Signer{n}",
            "given_name": "Aminat",
            "region": ["RU-CE", "RU-DA", "RU-IN"][n % 3],
            "relationship": "mother",
            "typed_signature": f"Aminat Signer{n}",
            "display": "initials",
            "consent": "y",
            "email": email,
        }
    ).encode()
    request = urllib.request.Request(f"{base}/a/{slug}", data=data, method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_100_concurrent_signatures_are_all_stored_and_counted(live_server, open_appeal):
    slug, appeal_id = open_appeal.slug, open_appeal.id
    started = started_stamp(live_server, slug)
    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(
            pool.map(
                lambda n: post_signature(live_server, slug, started, n, f"s{n}@example.org"),
                range(100),
            )
        )
    assert statuses == [302] * 100
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 100
    assert signature_counts([appeal_id]) == {appeal_id: 100}
    assert dict(region_counts(appeal_id)) == {"RU-CE": 34, "RU-DA": 33, "RU-IN": 33}


def test_the_same_signer_ten_times_at_once_gives_exactly_one_signature(live_server, open_appeal):
    slug, appeal_id = open_appeal.slug, open_appeal.id
    started = started_stamp(live_server, slug)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(
            pool.map(
                # Her name and address; the rest of the form differs (another region).
                lambda n: post_signature(live_server, slug, started, n, "Same@Example.org", "Ali"),
                range(10),
            )
        )
    assert statuses == [302] * 10  # everyone sees the same neutral page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    assert signature_counts([appeal_id]) == {appeal_id: 1}


def _link_token(text, kind):
    return re.search(rf"/{kind}/([^\s\"<]+)", text).group(1)


def _counted(appeal_id):
    db.session.expire_all()
    return signature_counts([appeal_id]).get(appeal_id, 0)


def test_a_double_tap_on_withdraw_takes_one_off_the_count(app, client, open_appeal, sign):
    appeal_id = open_appeal.id
    thanks = sign(open_appeal, follow=True).get_data(as_text=True)
    token = _link_token(thanks, "withdraw")
    assert _counted(appeal_id) == 1

    def withdraw():
        withdraw_signature(token)

    assert while_the_first_holds(app, withdraw, withdraw, TokenInvalid) == ("done", "refused")
    assert _counted(appeal_id) == 0
    assert dict(region_counts(appeal_id)) == {}


@pytest.mark.parametrize("second", ["confirm", "withdraw"])
def test_a_confirmation_at_the_same_time_as_another_step_counts_once(
    app, client, open_appeal, sign, outbox, second
):
    appeal_id = open_appeal.id
    set_confirm(open_appeal)
    thanks = sign(open_appeal, follow=True).get_data(as_text=True)
    confirm_token = _link_token(body_of(messages(outbox)[-1]), "confirm")
    withdraw_token = _link_token(thanks, "withdraw")

    def confirm():
        confirm_signature(confirm_token)

    def other():
        confirm_signature(confirm_token) if second == "confirm" else withdraw_signature(
            withdraw_token
        )

    outcomes = while_the_first_holds(app, confirm, other, TokenInvalid)
    # A second click is refused; a withdrawal goes through, and takes the signature off again.
    assert outcomes == ("done", "refused" if second == "confirm" else "done")
    assert _counted(appeal_id) == (1 if second == "confirm" else 0)


@pytest.mark.parametrize("first", ["close", "sign"])
def test_a_signature_and_a_closing_at_once_do_not_cross(app, open_appeal, first):
    appeal_id = open_appeal.id

    def close():
        close_appeal(db.session.get(Appeal, appeal_id))

    def sign():
        data = SignData(surname="Naloeva", given_name="Madina", typed_signature="M. Naloeva")
        sign_appeal(db.session.get(Appeal, appeal_id), data, consent="", confirm_within=None)

    if first == "close":
        # Closed while she signs: her signature waits for the close, then is refused.
        assert while_the_first_holds(app, close, sign, AppealNotOpen) == ("done", "refused")
        assert _counted(appeal_id) == 0
    else:
        # Signed while it closes: the close waits for her signature, which counts.
        assert while_the_first_holds(app, sign, close, AppealNotOpen) == ("done", "done")
        assert _counted(appeal_id) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == _counted(appeal_id)
    assert db.session.get(Appeal, appeal_id).status is AppealStatus.closed
