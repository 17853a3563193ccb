"""The same form sent twice (a browser's retry, a second tap without scripts) signs once."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.appeals.operations import close_appeal
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus
from campaign.signatures.operations import REPLAY_WINDOW, SignData, sign_appeal
from tests.concurrency import while_the_first_holds
from tests.signatures.conftest import form_values
from tests.signatures.test_sign_form import (
    body_of,
    count_on_page,
    messages,
    publish_a_second_text,
    set_confirm,
    stored,
)


def stamp_of_a_page_view(client, appeal):
    client.get(f"/a/{appeal.slug}")
    return form_values(client, appeal)["started"]


def thanks_of(client, response):
    assert response.status_code == 302 and "/thanks" in response.headers["Location"]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def withdraw_path(thanks):
    url = re.search(r'value="(http[^"]+/withdraw/[^"]+)"', thanks).group(1)
    return url.split("campaign.test", 1)[1]


@pytest.mark.parametrize("email", ["madina@example.org", ""])
def test_the_same_form_twice_stores_one_signature_and_shows_its_link_again(
    client, open_appeal, sign, outbox, email
):
    started = stamp_of_a_page_view(client, open_appeal)
    first = thanks_of(client, sign(open_appeal, started=started, email=email))
    again = thanks_of(client, sign(open_appeal, started=started, email=email))

    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    assert withdraw_path(again) == withdraw_path(first)
    # Neither a second thank-you mail nor an "already signed" one.
    sent = messages(outbox)
    assert len(sent) == (1 if email else 0)
    if email:
        assert withdraw_path(first).split("/")[-1] in body_of(sent[0])

    # The link shown the second time withdraws the one signature.
    assert "Your signature is withdrawn" in client.post(withdraw_path(again)).get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 0


def test_a_form_changed_on_the_same_page_is_another_signature(client, open_appeal, sign):
    # A family signing one after another on one phone: back, new name, sign.
    started = stamp_of_a_page_view(client, open_appeal)
    mother = thanks_of(client, sign(open_appeal, started=started, email=""))
    daughter = thanks_of(
        client,
        sign(open_appeal, started=started, email="", given_name="Aminat", relationship="sister"),
    )
    assert stored() == 2 and count_on_page(client, open_appeal) == 2
    assert withdraw_path(mother) != withdraw_path(daughter)


def test_two_page_views_with_the_same_answers_are_two_forms(client, open_appeal, sign):
    # Without a contact nothing tells two namesakes apart: each page view signs.
    sign(open_appeal, email="")
    sign(open_appeal, email="")
    assert stored() == 2


def test_sent_again_while_it_waits_for_confirmation(client, open_appeal, sign, outbox):
    set_confirm(open_appeal)
    started = stamp_of_a_page_view(client, open_appeal)
    first = thanks_of(client, sign(open_appeal, started=started))
    again = thanks_of(client, sign(open_appeal, started=started))
    assert "We have sent you an email" in first and "We have sent you an email" in again
    assert withdraw_path(again) == withdraw_path(first)
    assert stored() == 1 and len(messages(outbox)) == 1
    assert db.session.scalar(select(Signature.status)) is SignatureStatus.pending


def test_a_text_published_between_the_two_does_not_refuse_the_second(client, open_appeal, sign):
    started = stamp_of_a_page_view(client, open_appeal)
    first = thanks_of(client, sign(open_appeal, started=started))
    publish_a_second_text(open_appeal)
    again = thanks_of(client, sign(open_appeal, started=started))
    assert withdraw_path(again) == withdraw_path(first) and stored() == 1


def test_sent_again_after_a_close_it_is_still_her_signature(client, open_appeal, sign):
    started = stamp_of_a_page_view(client, open_appeal)
    first = thanks_of(client, sign(open_appeal, started=started))
    close_appeal(open_appeal)
    db.session.commit()
    again = thanks_of(client, sign(open_appeal, started=started))
    assert withdraw_path(again) == withdraw_path(first) and stored() == 1
    # A new form is refused, of course.
    assert sign(open_appeal, surname="Other", email="other@example.org").status_code == 409


def test_sent_again_minutes_later_it_does_not_show_her_link(client, open_appeal, sign):
    # Back on a phone the family shares: whoever taps "Sign" again must not get her link.
    started = stamp_of_a_page_view(client, open_appeal)
    first = thanks_of(client, sign(open_appeal, started=started, email=""))
    signature = db.session.scalar(select(Signature))
    signature.created_at -= REPLAY_WINDOW + timedelta(seconds=1)
    db.session.commit()
    later = thanks_of(client, sign(open_appeal, started=started, email=""))
    assert withdraw_path(later) != withdraw_path(first)
    # A decoy (signatures.decoys): it opens and answers as hers would, and withdraws nothing.
    assert client.get(withdraw_path(later)).status_code == 200
    assert "Your signature is withdrawn" in client.post(withdraw_path(later)).get_data(as_text=True)
    assert stored() == 1 and count_on_page(client, open_appeal) == 1


def test_a_withdrawn_signature_forgets_its_form(client, open_appeal, sign):
    started = stamp_of_a_page_view(client, open_appeal)
    first = thanks_of(client, sign(open_appeal, started=started))
    client.post(withdraw_path(first))
    db.session.expire_all()
    assert db.session.scalar(select(Signature.submission_hash)) is None

    # Sending that page's form again (the browser's "resubmit") is signing anew.
    again = thanks_of(client, sign(open_appeal, started=started))
    assert withdraw_path(again) == withdraw_path(first)
    assert count_on_page(client, open_appeal) == 1
    db.session.expire_all()
    statuses = db.session.scalars(select(Signature.status).order_by(Signature.id)).all()
    assert statuses == [SignatureStatus.withdrawn, SignatureStatus.valid]


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"SIGN_MIN_SECONDS": 0, "WTF_CSRF_ENABLED": True}

    def test_the_same_form_twice_with_its_token_signs_once(self, client, open_appeal, sign):
        values = form_values(client, open_appeal)
        token, started = values["csrf_token"], values["started"]
        first = thanks_of(client, sign(open_appeal, started=started, csrf_token=token))
        again = thanks_of(client, sign(open_appeal, started=started, csrf_token=token))
        assert withdraw_path(again) == withdraw_path(first) and stored() == 1

    def test_her_form_sent_from_another_browser_learns_nothing(self, app, client, open_appeal):
        form = form_values(client, open_appeal)
        form.update(
            surname="Naloeva",
            given_name="Madina",
            region="RU-CE",
            relationship="mother",
            typed_signature="Madina Naloeva",
            display="full",
            consent="y",
        )
        thanks_of(client, client.post(f"/a/{open_appeal.slug}", data=form))

        # The very same fields from another session: her token does not hold there, so the
        # form is not hers, and nothing of hers is shown.
        other = app.test_client()
        other.get(f"/a/{open_appeal.slug}")
        response = other.post(f"/a/{open_appeal.slug}", data=form)
        assert response.status_code == 400
        assert "/withdraw/" not in response.get_data(as_text=True)
        assert stored() == 1


def test_the_same_form_twice_at_the_same_moment_stores_one(app, open_appeal):
    appeal_id = open_appeal.id
    outcomes = []

    def send():
        appeal = db.session.get(Appeal, appeal_id)
        data = SignData(surname="Naloeva", given_name="Madina", typed_signature="M. Naloeva")
        outcomes.append(
            sign_appeal(
                appeal, data, consent="I consent", confirm_within=None, submission="same-form"
            )
        )

    assert while_the_first_holds(app, send, send, ()) == ("done", "done")
    first, second = outcomes
    assert not first.replayed and second.replayed
    assert second.withdraw_token == first.withdraw_token
    db.session.expire_all()
    assert stored() == 1
