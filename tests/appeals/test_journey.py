"""The organiser's journey end to end through the test client."""

import hashlib
import re

from sqlalchemy import select

from campaign.accounts.models import User
from campaign.appeals.letters import canonical_letter, version_letter
from campaign.appeals.models import Appeal
from campaign.extensions import db
from tests.appeals.test_appeal_form import edit_data, form_data, publish_data
from tests.mailbox import link_path, mails


def test_sign_up_create_preview_publish_edit_publish_and_compare(client, outbox):
    # Sign up, and confirm with the mailed link.
    response = client.post(
        "/accounts/signup",
        data={
            "name": "Zarema",
            "email": "Zarema@Example.org",
            "password": "a long passphrase",
            "confirm": "a long passphrase",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User.email)) == "zarema@example.org"
    [message] = mails(outbox)
    confirm = link_path(message, "/accounts/confirm/")
    assert client.post(confirm, data={"password": "a long passphrase"}).status_code == 302

    # Create a draft; it is not public yet.
    response = client.post(
        "/appeals/new",
        data=form_data(
            title="Верните наших родных", body="Мы просим **вернуть** наших родных домой."
        ),
    )
    appeal = db.session.scalar(select(Appeal))
    assert response.headers["Location"].endswith(f"/appeals/{appeal.id}/")
    assert appeal.slug == "vernite-nashikh-rodnykh"
    assert client.get(f"/a/{appeal.slug}").status_code == 404
    dashboard = client.get("/appeals/").get_data(as_text=True)
    assert "Верните наших родных" in dashboard and "Draft" in dashboard

    # Preview shows the public page with the draft.
    preview = client.get(f"/appeals/{appeal.id}/preview").get_data(as_text=True)
    assert "Preview" in preview
    assert "<strong>вернуть</strong>" in preview
    assert "Vladimir Putin" in preview

    # Publish version 1, with its fingerprint.
    response = client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    assert response.status_code == 302
    db.session.expire_all()
    v1 = appeal.latest_version
    assert (v1.number, appeal.status.value) == (1, "open")
    assert v1.fingerprint == hashlib.sha256(canonical_letter(1, version_letter(v1))).hexdigest()
    overview = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    assert v1.fingerprint in overview and "Version 1 is published." in overview
    assert "<dt>Time zone</dt><dd>Moscow (UTC+03:00)</dd>" in overview
    public = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "<strong>вернуть</strong>" in public

    # Edit: readers keep seeing version 1 until the next publish.
    response = client.post(
        f"/appeals/{appeal.id}/edit",
        data=edit_data(
            appeal,
            title="Верните наших родных",
            body="Мы просим **срочно вернуть** наших родных домой.",
        ),
    )
    assert response.status_code == 302
    public = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "срочно" not in public
    overview = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    assert "Publish version 2" in overview

    # Publish version 2.
    client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    db.session.expire_all()
    v2 = appeal.latest_version
    assert v2.number == 2 and v2.fingerprint != v1.fingerprint
    assert "срочно" in client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    dashboard = client.get("/appeals/").get_data(as_text=True)
    assert re.search(r"Open</span></td>\s*<td data-label=\"Version\">2</td>", dashboard)

    # Both versions stay readable.
    first = client.get(f"/appeals/{appeal.id}/versions/1").get_data(as_text=True)
    second = client.get(f"/appeals/{appeal.id}/versions/2").get_data(as_text=True)
    assert "срочно" not in first and v1.fingerprint in first
    assert "срочно" in second and v2.fingerprint in second
    assert client.get(f"/appeals/{appeal.id}/versions/3").status_code == 404

    # The diff shows what changed.
    diff = client.get(f"/appeals/{appeal.id}/diff?old=1&new=2").get_data(as_text=True)
    assert re.search(r"<del[^>]*>.*Мы просим \*\*вернуть\*\*", diff)
    assert re.search(r"<ins[^>]*>.*Мы просим \*\*срочно вернуть\*\*", diff)

    # Publishing again without changes is refused.
    client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    db.session.expire_all()
    assert len(appeal.versions) == 2


def test_diff_against_the_draft(client, make_user, login, make_appeal):
    owner = make_user()
    appeal = make_appeal(owner=owner, body="First text.")
    login(owner)
    client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    client.post(f"/appeals/{appeal.id}/edit", data=edit_data(appeal, body="Second text."))
    html = client.get(f"/appeals/{appeal.id}/diff?old=1&new=draft").get_data(as_text=True)
    assert re.search(r"<del[^>]*>.*First text\.", html)
    assert re.search(r"<ins[^>]*>.*Second text\.", html)
    # Said in words too, for screen readers that do not announce ins and del.
    assert re.search(r'<del[^>]*>.*<span class="visually-hidden"[^>]*>Removed: </span>First', html)
    assert re.search(r'<ins[^>]*>.*<span class="visually-hidden"[^>]*>Added: </span>Second', html)
    assert f'<div class="diff" lang="{appeal.language}">' in html
    # A version number that is no number (a superscript two is a "digit") shows the latest.
    for odd in ("%C2%B2", "x", "-1", "9" * 30, "%D9%A3"):
        assert client.get(f"/appeals/{appeal.id}/diff?old=1&new={odd}").status_code == 200
        assert client.get(f"/appeals/{appeal.id}/diff?old={odd}&new=1").status_code == 200


def test_close_and_reopen_through_the_pages(client, make_user, login, make_appeal):
    owner = make_user()
    appeal = make_appeal(owner=owner)
    login(owner)
    client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    client.post(f"/appeals/{appeal.id}/close")
    db.session.expire_all()
    assert appeal.status.value == "closed"
    assert "This appeal is closed." in client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    client.post(f"/appeals/{appeal.id}/reopen")
    db.session.expire_all()
    assert appeal.status.value == "open"


def test_publishing_an_incomplete_draft_shows_why(client, make_user, login, make_appeal):
    owner = make_user()
    appeal = make_appeal(owner=owner, body="")
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/publish", data=publish_data(appeal), follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Give the letter a title, an addressee and a text before publishing." in html
    db.session.expire_all()
    assert appeal.versions == [] and appeal.status.value == "draft"
