"""Names in the scripts the installed fonts cover are printed as they were written."""

from campaign.dossiers.models import Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.extensions import db
from tests.dossiers.pdftools import flat, page_texts


def test_names_in_cjk_and_other_scripts_are_printed(open_appeal, make_signature):
    names = ["王", "小明", "ქუთაისი", "สมชาย", "አማርኛ"]
    make_signature(open_appeal, surname=names[0], given_name=names[1], town=names[2])
    make_signature(open_appeal, surname=names[3], given_name=names[4])
    # Her town is for the authority only (signatures.audience): the public edition has names.
    public_names = [name for name in names if name != "ქუთაისი"]
    for edition, printed in ((Edition.submission, names), (Edition.public, public_names)):
        snapshot = make_snapshot(open_appeal, edition, user=None)
        db.session.commit()
        text = flat(" ".join(page_texts(snapshot_path(snapshot).read_bytes())))
        assert [name for name in printed if name not in text] == [], edition
