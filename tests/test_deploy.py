"""The deployment files in deploy/ say what the app needs: gunicorn's settings load, the
nginx access log hides the token of every route that carries one, and the daily timer runs the
README's daily commands."""

import re
import runpy

from flask import url_for
from gunicorn.config import Config

from campaign import ROOT

DEPLOY = ROOT / "deploy"
SECRET = "Zx9-secretTOKENvalue_42"


def nginx_map(name: str) -> list[tuple[re.Pattern[str], str]]:
    """The regular-expression entries of a `map ... $name { }` block, in order."""
    text = (DEPLOY / "nginx.conf").read_text()
    block = re.search(rf"map \$\w+ \${name} {{(.*?)\n}}", text, re.S).group(1)
    entries = []
    for pattern, value in re.findall(r'^\s*"~(.+)"\s+"(.+)";\s*$', block, re.M):
        # PCRE's (?<name>...) is Python's (?P<name>...); ${name} is \g<name>.
        python = pattern.replace("(?<", "(?P<")
        entries.append((re.compile(python), re.sub(r"\$\{(\w+)\}", r"\\g<\1>", value)))
    return entries


def logged(uri: str) -> str:
    for pattern, value in nginx_map("campaign_logged_uri"):  # nginx: the first match wins
        if pattern.search(uri):
            return pattern.sub(value, uri, count=1)
    return uri


def test_nginx_logs_no_token_of_any_route(app):
    routes = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert len(routes) >= 8
    with app.test_request_context():
        for rule in routes:
            values = {**{name: "1" for name in rule.arguments}, "token": SECRET}
            path = url_for(rule.endpoint, **values)
            assert SECRET not in logged(path), rule.rule
            assert SECRET not in logged(f"{path}?lang=ru"), rule.rule
            assert logged(path).endswith("/[token]"), rule.rule
        login = url_for("accounts.login", next=url_for("accounts.reset_password", token=SECRET))
    assert SECRET not in logged(login)
    for plain in ("/a/withdraw-the-law", "/a/return-them/thanks", "/static/css/site.css"):
        assert logged(plain) == plain


def test_gunicorn_settings_load_and_serve_the_app(monkeypatch):
    monkeypatch.setenv("WEB_BIND", "127.0.0.1:8123")
    monkeypatch.setenv("WEB_WORKERS", "3")
    config = Config()
    for key, value in runpy.run_path(str(DEPLOY / "gunicorn.conf.py")).items():
        if key in config.settings:
            config.set(key, value)
    assert config.wsgi_app == "campaign:create_app()"
    assert config.bind == ["127.0.0.1:8123"] and config.workers == 3
    assert config.worker_class_str == "sync"


def crontab_commands() -> list[str]:
    """The `flask ...` commands of the README's crontab, in order."""
    text = (ROOT / "README.md").read_text()
    line = re.search(r"```cron\n(.*?)\n```", text, re.S).group(1)
    return re.findall(r"\.venv/bin/flask ([\w-]+ [\w-]+)", line)


def test_the_daily_timer_runs_the_crontabs_commands_and_each_exists(app):
    service = (DEPLOY / "campaign-purge.service").read_text()
    run = re.findall(r"^ExecStart=/srv/campaign/\.venv/bin/flask ([\w-]+ [\w-]+)$", service, re.M)
    cron = crontab_commands()
    # The development outbox is the only thing a production host does not have.
    assert run == [command for command in cron if command != "mail purge-outbox"]
    assert run[0] == "signatures purge-private"  # a failure before it would skip the erasure
    runner = app.test_cli_runner()
    for command in cron:
        result = runner.invoke(args=[*command.split(), "--help"])
        assert result.exit_code == 0, (command, result.output)
