"""The signature list as a CSV: the attachment, whose SHA-256 is the list's fingerprint."""

import csv
import io

from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.dossiers.content import DossierContent, Row
from campaign.signatures.spreadsheets import neutralise


def csv_columns(content: DossierContent) -> list[str]:
    """Name the columns of the signature list, in the dossier's language."""
    with force_locale(content.language):
        columns = [
            _("No."),  # the row's number (not the kind of answer "Number")
            _("Full name"),
            _("Region"),
            _("Relationship"),
            _("Relative concerned"),
            _("Where held"),
            _("Children"),
            _("Date"),
            _("Letter version"),
        ]
        if content.private:
            columns += [_("Town"), _("Postal address"), _("Filled in by"), _("Signature SHA-256")]
    return columns + content.questions


def csv_row(content: DossierContent, row: Row) -> list[str]:
    """Return one signatory's cells, as in the table."""
    cells = [
        str(row.number),
        row.name,
        row.region,
        row.relationship,
        row.relative,
        row.relative_location,
        "" if row.children is None else str(row.children),
        row.signed_on,
        str(row.version),
    ]
    if content.private:
        cells += [row.town, row.postal_address, row.helper, row.image_sha256]
    return cells + list(row.answers)


def signature_list_csv(content: DossierContent) -> bytes:
    """Serialise the signature list canonically: UTF-8, RFC 4180, LF line ends, no BOM.

    Its SHA-256 is the list's fingerprint, so anyone holding the attachment can recompute it.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # The header too: custom questions' labels are written by organisers.
    writer.writerow([neutralise(column) for column in csv_columns(content)])
    for row in content.rows:
        writer.writerow([neutralise(cell) for cell in csv_row(content, row)])
    return buffer.getvalue().encode("utf-8")
