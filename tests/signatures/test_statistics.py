"""The statistics page: valid signatures only, per day and by region, relationship and
version, charts with their numbers, and the CSV (audited)."""

from datetime import date

import pytest
from flask import render_template_string
from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.signatures.moderation import reject_signature
from campaign.signatures.statistics import _timeline, signature_statistics, statistics_csv


@pytest.fixture
def advocate(make_user):
    return make_user()


@pytest.fixture
def appeal(make_published_appeal, advocate):
    return make_published_appeal(language="ru", country="RU", members={advocate: Role.advocate})


@pytest.fixture
def signed(appeal, make_signature):
    made = [
        make_signature(appeal, region="RU-CE", relationship="мать"),
        make_signature(appeal, region="RU-CE", relationship="жена"),
        make_signature(appeal, region="RU-DA", relationship="мать"),
    ]
    rejected = make_signature(appeal, region="RU-KB", relationship="=HYPERLINK(1)")
    reject_signature(rejected, seen_revision=0, actor_id=None, reason="дубль")
    db.session.commit()
    return made


def test_only_valid_signatures_count(app, appeal, signed):
    stats = signature_statistics(appeal, "en")
    assert stats.total == 3
    assert sum(count for _day, count in stats.per_day) == 3
    tables = {breakdown.code: dict(rows) for breakdown, rows in stats.breakdowns}
    assert tables["region"] == {"Chechen Republic": 2, "Republic of Dagestan": 1}
    assert tables["relationship"] == {"мать": 2, "жена": 1}
    assert tables["version"] == {"version 1": 3}


def test_the_page_draws_each_chart_with_its_numbers(client, login, advocate, appeal, signed):
    login(advocate)
    response = client.get(f"/appeals/{appeal.id}/statistics")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # The signatures per day: all three were made today, so the curve is one dot, at the top.
    assert page.count("<svg") == 1
    assert '<div class="curve-y" aria-hidden="true"><span>3</span><span>0</span></div>' in page
    assert '<line x1="0" y1="0.0" x2="0" y2="0.0"' in page
    # Each count by region, relationship and version is a bar in its row, beside its number.
    assert page.count("<progress") == 2 + 2 + 1
    assert '<td>Chechen Republic<progress max="2" value="2"' in page
    assert '<td class="num">2</td>' in page
    assert "Kabardino" not in page  # the rejected one


def test_the_curve_spans_its_days_and_labels_them_as_text(app):
    # The drawing stretches to the page's width; its labels are the page's text, beside it.
    points = [(date(2026, 11, 30), 4), (date(2026, 12, 1), 0), (date(2026, 12, 2), 2)]
    with app.test_request_context():
        html = render_template_string(
            '{% from "_macros/charts.html" import curve %}{{ curve(points, "t") }}', points=points
        )
    assert 'preserveAspectRatio="none"' in html and "<text" not in html
    assert 'points="0.0,0.0 300.0,200.0 600.0,100.0"' in html
    assert '<div class="curve-y" aria-hidden="true"><span>4</span><span>0</span></div>' in html
    days = "<span>30.11.2026</span><span>02.12.2026</span>"
    assert f'<div class="curve-x" aria-hidden="true">{days}</div>' in html


def test_the_csv_is_audited_and_neutralises_formulas(
    client, login, advocate, appeal, signed, make_signature
):
    make_signature(appeal, relationship="＝cmd|'/c calc'!A1")
    login(advocate)
    response = client.get(f"/appeals/{appeal.id}/statistics.csv")
    text = response.get_data(as_text=True)
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    assert text.startswith("\ufefftable,value,count")
    assert "region,Chechen Republic,3" in text
    assert "'＝cmd" in text
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "statistics.downloaded")
    ).one()
    assert event.actor_id == advocate.id and event.details == {"format": "csv", "total": 4}


def test_an_empty_appeal(client, login, advocate, appeal):
    login(advocate)
    page = client.get(f"/appeals/{appeal.id}/statistics").get_data(as_text=True)
    assert "No valid signature yet" in page
    assert statistics_csv(signature_statistics(appeal, "en")) == "\ufefftable,value,count\r\n"


def test_days_without_signatures_are_zero_and_long_campaigns_count_weeks():
    days, by_week = _timeline({date(2026, 1, 1): 2, date(2026, 1, 3): 1})
    assert days == [(date(2026, 1, 1), 2), (date(2026, 1, 2), 0), (date(2026, 1, 3), 1)]
    assert not by_week
    weeks, by_week = _timeline({date(2026, 1, 1): 1, date(2026, 6, 1): 1})
    assert by_week and weeks[0] == (date(2025, 12, 29), 1) and sum(c for _d, c in weeks) == 2


def test_another_organiser_gets_404(client, login, make_user, appeal):
    login(make_user())
    assert client.get(f"/appeals/{appeal.id}/statistics").status_code == 404
    assert client.get(f"/appeals/{appeal.id}/statistics.csv").status_code == 404


def test_shares_are_written_as_the_language_writes_decimals(
    client, login, advocate, appeal, signed
):
    login(advocate)
    url = f"/appeals/{appeal.id}/statistics"
    ru = client.get(url, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<td class="num">66,7</td>' in ru and '<td class="num">33,3</td>' in ru
    assert '<td class="num">100,0</td>' in ru and "66.7" not in ru
    en = client.get(url).get_data(as_text=True)
    assert '<td class="num">66.7</td>' in en
