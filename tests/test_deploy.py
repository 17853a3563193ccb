"""The deployment files in deploy/ say what the app needs: gunicorn's settings load, and the
nginx access log hides the token of every route that carries one."""

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
