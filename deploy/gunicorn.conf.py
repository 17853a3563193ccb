"""gunicorn settings for Campaign: `make serve`, or `gunicorn -c deploy/gunicorn.conf.py`.

Environment overrides (also GUNICORN_CMD_ARGS, which gunicorn reads itself):
WEB_BIND (default 127.0.0.1:8000), WEB_WORKERS (default: one per core), WEB_WORKER_CLASS
(default sync), WEB_THREADS (default 1, for gthread), WEB_ACCESS_LOG (default "-": stderr).

Worker model, chosen by measurement (see the README, "Running in production and at scale"):
`sync`, one process per core, behind nginx (which buffers slow clients, so a sync worker is
never held by one). With `gthread` 2 x 4 one process often took all 16 connections while
the other idled, the in-memory rate limiter is not thread-safe (limits 5.8), and SQLite writers
in one process only queue behind each other; the measured rounds are in the commit that added
this file and in the README.

The access log goes through campaign.logs.TokenRedactor (installed on the "gunicorn.access"
logger by create_app in each worker): the token of a withdrawal, confirmation, reset or
invitation link never reaches it.
"""

import os

wsgi_app = "campaign:create_app()"
bind = [os.environ.get("WEB_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_WORKERS", os.cpu_count() or 1))
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("WEB_THREADS", "1"))
# A request slower than this is a stuck worker (dossiers render in the task queue, not here).
timeout = 30
# systemd's stop and a `kill -TERM`: workers finish the request they serve within this.
graceful_timeout = 20
keepalive = 5
# Workers are replaced now and then, so that a slow leak never grows unbounded.
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
# The client's address as the proxy saw it (PROXY_COUNT in the app trusts X-Forwarded-For).
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
# No request bodies or headers in the error log, and no tracebacks' messages (logs.py).
capture_output = False
proc_name = "campaign-web"
# gunicorn >= 24 opens a control socket in the user's home by default; nothing here uses it,
# and a service user may have no home to write to.
control_socket_disable = True
