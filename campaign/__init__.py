"""Campaign: collective appeals signed by families and delivered as a dossier."""

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config layers, extensions, blueprints and CLI groups."""
    from campaign.upstream_warnings import silence_upstream_warnings

    silence_upstream_warnings()
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from campaign import config

    config.load(app, test_config)

    from campaign import (
        crypto,
        database,
        errors,
        extensions,
        i18n,
        logs,
        mail,
        security,
        security_log,
        tasks,
        urls,
    )
    from campaign.appeals.access import may_open
    from campaign.markup import render_markdown
    from campaign.urls import public_url_for

    app.jinja_env.add_extension("jinja2.ext.do")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_global(public_url_for)
    app.add_template_global(may_open)

    extensions.init_app(app)
    crypto.init_app(app)
    mail.init_app(app)
    database.init_app(app)
    security.init_app(app)
    security_log.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    tasks.init_app(app)
    urls.init_app(app)

    from campaign.accounts import deletion_views, two_factor_views  # noqa: F401  (accounts bp)
    from campaign.accounts import settings_views as settings_pages  # noqa: F401  (accounts bp)
    from campaign.accounts import views as account_pages  # noqa: F401  (likewise)
    from campaign.accounts.blueprint import bp as accounts_bp
    from campaign.accounts.cli import accounts_cli
    from campaign.appeals import members as member_pages  # noqa: F401  (on the appeals bp)
    from campaign.appeals import views as appeal_pages  # noqa: F401  (likewise)
    from campaign.appeals.blueprint import bp as appeals_bp
    from campaign.audit import models as audit_models  # noqa: F401  (its table)
    from campaign.audit import views as audit_pages  # noqa: F401  (on the appeals bp)
    from campaign.demo import demo_cli
    from campaign.dossiers import organiser_views as dossier_pages  # noqa: F401  (appeals bp)
    from campaign.dossiers.cli import dossiers_cli
    from campaign.dossiers.operations import forget_cached_blocks
    from campaign.dossiers.verify_views import bp as verify_bp
    from campaign.key_rotation import keys_cli
    from campaign.mail_dead_letters import purge_dead_command  # noqa: F401  (its commands)
    from campaign.mail_queue import OutgoingMail  # noqa: F401  (its table, its job)
    from campaign.public.views import bp as public_bp

    # Organiser pages about signatures, on the appeals blueprint.
    from campaign.signatures import (  # noqa: F401  (signatures bp)
        duplicate_views,
        family_views,
        import_views,
        list_views,
        organiser_views,
        paper_views,
        retention_views,
        scan_views,
        sign_views,
        signer_views,
        statistics_views,
    )
    from campaign.signatures.blueprint import bp as signatures_bp
    from campaign.signatures.cli import signatures_cli
    from campaign.signatures.public_page import forget_pages
    from campaign.signatures.retention import (
        counting_private_data,
        erasing_private_data,
        private_data_erased,
    )
    from campaign.signatures.signer_links import signature_withdrawing, signature_withdrawn
    from campaign.submissions import desk_views, followup, mailing_views  # noqa: F401  (appeals bp)
    from campaign.submissions.public_views import bp as submissions_bp
    from campaign.submissions.retention import (
        count_unsubmitted_files,
        erase_files_of_withdrawn,
        erase_unsubmitted_files,
    )
    from campaign.task_worker import tasks_cli

    signature_withdrawn.connect(forget_cached_blocks)
    private_data_erased.connect(forget_cached_blocks)
    signature_withdrawn.connect(forget_pages)
    private_data_erased.connect(forget_pages)
    counting_private_data.connect(count_unsubmitted_files)
    erasing_private_data.connect(erase_unsubmitted_files)
    signature_withdrawing.connect(erase_files_of_withdrawn)

    app.register_blueprint(accounts_bp)
    app.register_blueprint(appeals_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(signatures_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(verify_bp)
    logs.init_app(app)  # after the routes: it reads which of them carry a token
    app.cli.add_command(accounts_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(dossiers_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(signatures_cli)
    app.cli.add_command(tasks_cli)
    return app
