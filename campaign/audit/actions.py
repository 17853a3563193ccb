"""The actions the audit log knows, each with the words the owner reads."""

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# Recording an action not listed here raises: a typo must not make an event that no filter
# finds. Add the action with its label when a feature starts recording it.
ACTIONS: dict[str, LazyString] = {
    "signature.flagged": _l("Signature flagged for review"),
    "signature.rejected": _l("Signature rejected"),
    "signature.restored": _l("Signature restored"),
    "dossier.downloaded": _l("Dossier downloaded"),
    "dossier.files_erased": _l("Files of dossiers never handed in deleted after a withdrawal"),
    "appeal.private_data_erased": _l("Signatories' private details erased"),
    "appeal.two_factor_required": _l("Two-step login required of every member"),
    "appeal.two_factor_not_required": _l("Two-step login no longer required"),
    "duplicates.marked_distinct": _l("Two signatures marked as different people"),
    "families.merged": _l("Families merged"),
    "families.split": _l("Family split"),
    "families.recomputed": _l("Families recomputed"),
    "submission.recorded": _l("Submission recorded"),
    "submission.updated": _l("Submission changed"),
    "submission.answered": _l("Answer recorded"),
    "submission.deleted": _l("Submission deleted"),
    "submission.scan_added": _l("Scan added to a submission"),
    "submission.scan_downloaded": _l("Scan of a submission downloaded"),
    "submission.followup_drafted": _l("Follow-up letter made"),
    "submission.notice_sent": _l("Signers told of a coming submission"),
    "submission.update_sent": _l("Signers told of an answer"),
    "submission.mailing_retried": _l("Messages to signers that had failed sent again"),
    "appeal.listed": _l("Appeal listed on the home page"),
    "appeal.unlisted": _l("Appeal no longer listed on the home page"),
    "statistics.downloaded": _l("Statistics downloaded"),
    "signatures.imported": _l("Paper signatures imported"),
    "signatures.import_uploaded": _l("Table uploaded for import"),
    "signatures.import_cancelled": _l("Table import cancelled"),
    "signatures.import_upload_deleted": _l("Uploaded tables not imported deleted"),
    "signatures.exported": _l("Signatures exported"),
    "signature.paper_entered": _l("Paper signature entered"),
    "sheets.scan_stored": _l("Scan of a signed sheet stored"),
    "sheets.scan_downloaded": _l("Scan of a signed sheet viewed or downloaded"),
    "sheets.scan_deleted": _l("Scan of a signed sheet deleted"),
    "sheets.blank_downloaded": _l("Blank collection sheets downloaded"),
}
