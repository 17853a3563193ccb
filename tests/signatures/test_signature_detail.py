"""One signature's page and the bulk actions of the list: moderation with the revision seen,
all or nothing, 404 for another appeal's ids, advocates refused."""

import pytest
from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.signatures.models import CustomQuestion, QuestionKind, SignatureStatus
from campaign.signatures.operations import SignData, sign_appeal
from campaign.signatures.retention import erase_private_data
from campaign.signatures.settings import sign_form_settings
from campaign.signatures.signer_links import withdraw_signature


@pytest.fixture
def editor(make_user):
    return make_user()


@pytest.fixture
def advocate(make_user):
    return make_user()


@pytest.fixture
def appeal(make_published_appeal, editor, advocate):
    return make_published_appeal(
        language="ru", country="RU", members={editor: Role.editor, advocate: Role.advocate}
    )


def page_of(client, appeal, signature):
    return client.get(f"/appeals/{appeal.id}/signatures/{signature.id}")


def test_editors_see_every_field_and_the_drawn_signature(
    client, login, editor, appeal, make_signature
):
    signature = make_signature(
        appeal, email="secret@example.org", phone="+79281234567", postal_address="ул. Ленина 1"
    )
    login(editor)
    response = page_of(client, appeal, signature)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    for value in ("Мадина", "Руслановна", "secret@example.org", "+79281234567", "ул. Ленина 1"):
        assert value in page
    assert f"/signatures/{signature.id}/signature.png" in page
    image = client.get(f"/appeals/{appeal.id}/signatures/{signature.id}/signature.png")
    assert image.mimetype == "image/png" and "no-store" in image.headers["Cache-Control"]


def test_advocates_see_no_private_field(client, login, advocate, appeal, make_signature):
    settings = sign_form_settings(appeal)
    question = CustomQuestion(position=1, label="Passport", kind=QuestionKind.text, private=True)
    settings.questions.append(question)
    db.session.add(settings)
    db.session.flush()
    outcome = sign_appeal(
        appeal,
        SignData(
            surname="Налоева",
            given_name="Мадина",
            email="secret@example.org",
            postal_address="ул. Ленина 1",
            helper_name="Внук Ахмед",
            answers={question.id: "AB123456"},
        ),
        consent="yes",
        confirm_within=None,
    )
    db.session.commit()
    login(advocate)
    page = page_of(client, appeal, outcome.signature).get_data(as_text=True)
    assert "Налоева" in page
    for private in ("secret@example.org", "ул. Ленина 1", "Внук Ахмед", "AB123456", "Passport"):
        assert private not in page
    assert "signature.png" not in page
    # What she may still download holds them: the page does not say otherwise.
    assert "are shown only to owners and editors" in page
    assert "The dossier for submission, which advocates may download, includes them." in page
    assert 'name="reject"' not in page
    moderate = client.post(
        f"/appeals/{appeal.id}/signatures/{outcome.signature.id}",
        data={"revision": "0", "reject": "1", "reason": "x"},
    )
    assert moderate.status_code == 403


def test_after_an_erasure_the_page_does_not_say_she_filled_it_in_herself(
    client, login, editor, appeal, make_signature
):
    helped = make_signature(appeal, helper_name="Внук Ахмед")
    herself = make_signature(appeal)
    erase_private_data(appeal, reason="owner")
    db.session.commit()
    after = make_signature(appeal)  # given after the erasure: her answer is still there
    login(editor)
    for signature in (helped, herself):
        page = page_of(client, appeal, signature).get_data(as_text=True)
        assert "not known any more: erased with the private details on" in page
        assert "no one: she filled it in herself" not in page and "Внук Ахмед" not in page
    page = page_of(client, appeal, after).get_data(as_text=True)
    assert "no one: she filled it in herself" in page and "not known any more" not in page


def test_before_any_erasure_the_helper_or_no_one_is_shown(
    client, login, editor, appeal, make_signature
):
    helped = make_signature(appeal, helper_name="Внук Ахмед")
    herself = make_signature(appeal)
    login(editor)
    assert "Внук Ахмед" in page_of(client, appeal, helped).get_data(as_text=True)
    page = page_of(client, appeal, herself).get_data(as_text=True)
    assert "no one: she filled it in herself" in page and "not known any more" not in page


def test_moderation_from_the_page_with_the_revision_seen(
    client, login, editor, appeal, make_signature
):
    signature = make_signature(appeal)
    login(editor)
    url = f"/appeals/{appeal.id}/signatures/{signature.id}"
    response = client.post(url, data={"revision": "0", "reject": "1", "reason": ""})
    assert "Say why this signature is rejected" in response.get_data(as_text=True)
    assert signature.status is SignatureStatus.valid
    response = client.post(
        url, data={"revision": "0", "reject": "1", "reason": "Не её подпись"}, follow_redirects=True
    )
    assert "The signature is rejected" in response.get_data(as_text=True)
    db.session.refresh(signature)
    assert signature.status is SignatureStatus.rejected
    assert signature.moderation_reason == "Не её подпись"
    # A second editor's page still showed revision 0: refused, not applied unseen.
    stale = client.post(url, data={"revision": "0", "restore": "1"}, follow_redirects=True)
    assert "Nothing was done: a signature changed" in stale.get_data(as_text=True)
    db.session.refresh(signature)
    assert signature.status is SignatureStatus.rejected
    client.post(url, data={"revision": "1", "restore": "1"})
    db.session.refresh(signature)
    assert signature.status is SignatureStatus.valid
    history = page_of(client, appeal, signature).get_data(as_text=True)
    assert "Signature rejected" in history and "Signature restored" in history
    assert editor.name in history


def test_a_withdrawn_signature_cannot_be_rejected(client, login, editor, appeal):
    outcome = sign_appeal(
        appeal,
        SignData(surname="Налоева", given_name="Мадина", email="m@example.org"),
        consent="yes",
        confirm_within=None,
    )
    db.session.commit()
    withdraw_signature(outcome.withdraw_token)
    db.session.commit()
    login(editor)
    url = f"/appeals/{appeal.id}/signatures/{outcome.signature.id}"
    response = client.post(
        url, data={"revision": "0", "reject": "1", "reason": "x"}, follow_redirects=True
    )
    assert "cannot take this step" in response.get_data(as_text=True)
    db.session.refresh(outcome.signature)
    assert outcome.signature.status is SignatureStatus.withdrawn


def test_another_organiser_gets_404(client, login, make_user, appeal, make_signature):
    signature = make_signature(appeal)
    login(make_user())
    assert page_of(client, appeal, signature).status_code == 404


def test_a_signature_of_another_appeal_is_404(
    client, login, editor, appeal, make_signature, make_published_appeal
):
    other = make_signature(make_published_appeal())
    login(editor)
    assert page_of(client, appeal, other).status_code == 404
    response = client.post(
        f"/appeals/{appeal.id}/signatures/{other.id}", data={"revision": "0", "flag": "1"}
    )
    assert response.status_code == 404


# Bulk actions


def bulk(client, appeal, ids, action):
    return client.post(
        f"/appeals/{appeal.id}/signatures/bulk",
        data={"signature": [str(i) for i in ids], "action": action},
    )


def confirm(client, appeal, seen, action, reason=""):
    return client.post(
        f"/appeals/{appeal.id}/signatures/bulk/confirm",
        data={
            "action": action,
            "seen": " ".join(f"{i}:{r}" for i, r in seen.items()),
            "reason": reason,
        },
        follow_redirects=True,
    )


def test_bulk_reject_asks_to_confirm_then_rejects_all_and_audits_each(
    client, login, editor, appeal, make_signature
):
    signatures = [make_signature(appeal) for _ in range(3)]
    login(editor)
    review = bulk(client, appeal, [s.id for s in signatures[:2]], "reject")
    page = review.get_data(as_text=True)
    assert review.status_code == 200 and "Check the list, then confirm" in page
    assert f"{signatures[0].id}:0 {signatures[1].id}:0" in page
    assert signatures[0].status is SignatureStatus.valid  # nothing yet
    seen = {signatures[0].id: 0, signatures[1].id: 0}
    missing_reason = confirm(client, appeal, seen, "reject")
    assert "Say why these signatures are rejected" in missing_reason.get_data(as_text=True)
    done = confirm(client, appeal, seen, "reject", reason="Подписи одного почерка")
    assert "2 signatures" in done.get_data(as_text=True)
    statuses = [db.session.get(type(s), s.id).status for s in signatures]
    assert statuses == [SignatureStatus.rejected, SignatureStatus.rejected, SignatureStatus.valid]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "signature.rejected")
    ).all()
    assert sorted(e.subject_id for e in events) == sorted(seen)


def withdrawn_signature(appeal):
    outcome = sign_appeal(
        appeal,
        SignData(surname="Умарова", given_name="Заира", email="z@example.org"),
        consent="yes",
        confirm_within=None,
    )
    db.session.commit()
    withdraw_signature(outcome.withdraw_token)
    db.session.commit()
    return outcome.signature


def test_bulk_leaves_out_what_cannot_take_the_step_before_she_confirms(
    client, login, editor, appeal, make_signature
):
    kept, rejected = make_signature(appeal), make_signature(appeal)
    rejected.status = SignatureStatus.rejected
    db.session.commit()
    login(editor)
    page = bulk(client, appeal, [kept.id, rejected.id], "reject").get_data(as_text=True)
    assert f"Left out: No. {rejected.id} cannot take this step" in page
    assert "Reject: 1 signature" in page and f"{kept.id}:0" in page
    assert f"{rejected.id}:" not in page.split('name="seen"')[1].split(">")[0]
    confirm(client, appeal, {kept.id: 0}, "reject", reason="Один почерк")
    db.session.refresh(kept)
    assert kept.status is SignatureStatus.rejected


def test_bulk_with_none_that_can_take_the_step_says_so(
    client, login, editor, appeal, make_signature
):
    gone = withdrawn_signature(appeal)
    login(editor)
    response = bulk(client, appeal, [gone.id], "flag")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "none of the ticked signatures can take this step" in page


def test_bulk_with_a_signature_withdrawn_meanwhile_changes_nothing_and_leaves_it_out(
    client, login, editor, appeal, make_signature
):
    kept = make_signature(appeal)
    gone = withdrawn_signature(appeal)  # after the page showed it
    login(editor)
    page = confirm(client, appeal, {kept.id: 0, gone.id: 0}, "flag").get_data(as_text=True)
    assert f"Left out: No. {gone.id} cannot take this step" in page
    assert "Flag for review: 1 signature<" in page
    db.session.refresh(kept)
    assert kept.status is SignatureStatus.valid  # confirmed again, not yet
    confirm(client, appeal, {kept.id: 0}, "flag")
    db.session.refresh(kept)
    assert kept.status is SignatureStatus.flagged


def test_bulk_on_a_stale_page_changes_nothing(client, login, editor, appeal, make_signature):
    first, second = make_signature(appeal), make_signature(appeal)
    login(editor)
    response = confirm(client, appeal, {first.id: 0, second.id: 5}, "flag")
    assert "changed after the page showed them" in response.get_data(as_text=True)
    db.session.refresh(first)
    assert first.status is SignatureStatus.valid


def test_bulk_with_another_appeals_ids_is_404(
    client, login, editor, appeal, make_signature, make_published_appeal
):
    mine = make_signature(appeal)
    other = make_signature(make_published_appeal())
    login(editor)
    assert bulk(client, appeal, [mine.id, other.id], "flag").status_code == 404
    response = client.post(
        f"/appeals/{appeal.id}/signatures/bulk/confirm",
        data={"action": "flag", "seen": f"{mine.id}:0 {other.id}:0"},
    )
    assert response.status_code == 404
    db.session.refresh(other)
    assert other.status is SignatureStatus.valid


def test_bulk_refused_to_advocates_and_to_other_organisers(
    client, login, advocate, make_user, appeal, make_signature
):
    signature = make_signature(appeal)
    login(advocate)
    assert bulk(client, appeal, [signature.id], "flag").status_code == 403
    client.post("/accounts/logout")
    login(make_user())
    assert bulk(client, appeal, [signature.id], "flag").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"action": "delete", "seen": "1:0"},
        {"action": "flag", "seen": "1;0"},
        {"action": "flag", "seen": ""},
    ],
)
def test_bulk_confirm_with_bad_input_is_400(client, login, editor, appeal, data):
    login(editor)
    response = client.post(f"/appeals/{appeal.id}/signatures/bulk/confirm", data=data)
    assert response.status_code == 400


def test_bulk_without_a_tick_or_an_action_says_so(client, login, editor, appeal, make_signature):
    signature = make_signature(appeal)
    login(editor)
    response = client.post(
        f"/appeals/{appeal.id}/signatures/bulk", data={"action": "flag"}, follow_redirects=True
    )
    assert "Tick at least one signature" in response.get_data(as_text=True)
    response = client.post(
        f"/appeals/{appeal.id}/signatures/bulk",
        data={"signature": [str(signature.id)], "action": ""},
        follow_redirects=True,
    )
    assert "Choose what to do" in response.get_data(as_text=True)
