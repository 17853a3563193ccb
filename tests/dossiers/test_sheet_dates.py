"""The signature sheets write the day a signer signed online as the rest of the dossier does."""

from campaign.dossiers.models import Edition
from campaign.time_zones import today_in
from tests.dossiers.pdftools import page_texts
from tests.dossiers.rendered import render


def test_a_sheet_dates_the_online_signature_as_the_table_does(open_appeal, make_signature):
    make_signature(open_appeal)
    _snapshot, pdf = render(open_appeal, Edition.sheets)
    text = " ".join(page_texts(pdf))
    today = today_in(open_appeal.time_zone)
    assert f"Подписано онлайн {today:%d.%m.%Y}" in " ".join(text.split())
    assert today.isoformat() not in text
