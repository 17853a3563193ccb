"""A repeated signing's withdrawal link behaves as a new signature's: whoever types a woman's
name and number learns nothing from it about whether she had signed."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import FieldMode, Signature, WithdrawalDecoy
from tests.signatures.conftest import form_values
from tests.signatures.test_sign_form import count_on_page, set_confirm, stored, without_tokens


def link_of(client, response):
    """The withdrawal link her thank-you page shows (a path)."""
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r"http\S+?(/a/[^/]+/withdraw/[^\"]+)", page).group(1)


def decoys():
    return db.session.scalar(select(func.count()).select_from(WithdrawalDecoy))


def test_a_repeat_by_name_and_phone_gets_a_link_that_behaves_as_a_new_ones(
    client, open_appeal, sign
):
    set_confirm(open_appeal, on=False, phone=FieldMode.optional)
    sign(open_appeal, phone="+7 928 123 45 67", email="")
    # A stranger types her name and number: and, to compare, someone who never signed.
    repeat = link_of(client, sign(open_appeal, phone="8 (928) 123-45-67", email=""))
    new = link_of(client, sign(open_appeal, surname="Gadzhieva", phone="+79280000001", email=""))
    assert stored() == 2 and decoys() == 1

    opened = [client.get(path) for path in (repeat, new)]
    assert [response.status_code for response in opened] == [200, 200]
    repeat_page, new_page = (
        without_tokens(re.sub(r"/withdraw/[^\"]+", "", r.get_data(as_text=True))) for r in opened
    )
    assert repeat_page == new_page
    done = [client.post(path) for path in (repeat, new)]
    assert [response.status_code for response in done] == [200, 200]
    assert all("Your signature is withdrawn" in r.get_data(as_text=True) for r in done)
    # Both used up, as a used link is.
    assert [client.get(path).status_code for path in (repeat, new)] == [404, 404]
    # Her own signature stands: the decoy withdrew nothing.
    db.session.expire_all()
    assert count_on_page(client, open_appeal) == 1
    assert db.session.scalar(select(Signature.surname).where(Signature.withdrawn_at.is_(None)))
    assert decoys() == 0


def test_the_same_repeated_form_sent_again_shows_the_same_link(client, open_appeal, sign):
    sign(open_appeal)
    client.get(f"/a/{open_appeal.slug}")
    started = form_values(client, open_appeal)["started"]
    data = {"surname": "NALOEVA", "email": "Madina+again@example.org", "started": started}
    first = link_of(client, sign(open_appeal, **data))
    assert link_of(client, sign(open_appeal, **data)) == first
    assert decoys() == 1


def test_a_decoy_expires_as_an_unconfirmed_signature_is_purged(client, open_appeal, sign, runner):
    set_confirm(open_appeal)
    sign(open_appeal)
    repeat = link_of(client, sign(open_appeal, surname="NALOEVA"))
    decoy = db.session.scalar(select(WithdrawalDecoy))
    week = client.application.config["CONFIRMATION_LIFETIME"]
    assert abs(decoy.expires_at - (utcnow() + week)) < timedelta(minutes=1)
    assert client.get(repeat).status_code == 200
    decoy.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert runner.invoke(args=["signatures", "purge-pending"]).exit_code == 0
    assert decoys() == 0 and client.get(repeat).status_code == 404


def test_without_confirmation_a_decoy_stays_as_a_signatures_link_does(
    client, open_appeal, sign, runner
):
    sign(open_appeal)
    repeat = link_of(client, sign(open_appeal, surname="NALOEVA"))
    assert db.session.scalar(select(WithdrawalDecoy.expires_at)) is None
    assert runner.invoke(args=["signatures", "purge-pending"]).exit_code == 0
    assert client.get(repeat).status_code == 200


def test_a_link_nobody_was_given_is_still_refused(client, open_appeal):
    assert client.get(f"/a/{open_appeal.slug}/withdraw/made-up-token").status_code == 404
    assert client.post(f"/a/{open_appeal.slug}/withdraw/made-up-token").status_code == 404
