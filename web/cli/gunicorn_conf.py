"""gunicorn's settings for OG Image API (docs/operations.md#workers-ogapi-serve).

What `ogapi serve` runs (web/cli/serve.py), and what a platform runs from the Procfile:

    gunicorn -c python:web.cli.gunicorn_conf web.app:gunicorn_app --bind 0.0.0.0:$PORT --workers 4

gunicorn supervises: a worker that dies is replaced; SIGTERM (and SIGINT) stop gracefully, each
worker finishing its requests in flight (up to `graceful_timeout`) and then closing its render
pool, database pool and Redis client (the app's cleanup contexts). Each worker builds its own
app after the fork (no preload), so nothing is shared between workers but the socket.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
import tempfile

from web.http.logs import gunicorn_logconfig

try:
    import uvloop  # noqa: F401  (a plain dependency, except on Windows)

    worker_class = "web.cli.gunicorn_worker.UVLoopWebWorker"
except ImportError:  # pragma: no cover
    worker_class = "web.cli.gunicorn_worker.WebWorker"

# Seconds a stopping worker has to finish its requests in flight (aiohttp waits 95% of it);
# SIGTERM therefore stops everything well within 30 s.
graceful_timeout = 20
timeout = 30  # a worker silent this long (a blocked event loop) is killed and replaced
keepalive = 75  # above the usual load balancer idle timeout (60 s): the LB closes first
_LOG_FORMAT = (os.environ.get("LOG_FORMAT") or "text").lower()
_LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "INFO").upper()
# Text: aiohttp's access log through gunicorn. JSON: the app writes its own access lines (with
# the route), and gunicorn's lines are JSON too (web/http/logs.py).
accesslog = None if _LOG_FORMAT == "json" else "-"
logconfig_dict = gunicorn_logconfig(_LOG_FORMAT, _LOG_LEVEL) or {}
control_socket_disable = True  # several servers per host (and tests) must not share a socket
# aiohttp's access log format plus the request id, so a client's X-Request-ID leads to its line.
access_log_format = '%a "%r" %s %b %Tfs "%{User-Agent}i" rid=%{X-Request-ID}o'


def _fail(message: str, status: int) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(status)


def check_port(address) -> None:
    """A busy port is one line naming it (gunicorn would retry for 5 s, then log a stack)."""
    if not isinstance(address, tuple):
        return  # a unix socket or a file descriptor
    host, port = address[0], address[1]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                _fail(f"port {port} on {host} is already in use (is another server running?)", 1)
            _fail(f"cannot listen on {host}:{port}: {exc.strerror}", 1)


def on_starting(server) -> None:
    """Before binding: the configuration must suit this many workers (SQLite is one process),
    whether the count came from --workers, WEB_CONCURRENCY or a config file."""
    from web.settings import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        _fail(str(exc), 2)
        return
    if problem := settings.workers_problem(server.cfg.workers):
        _fail(problem, 2)
    for address in server.cfg.address:
        check_port(address)
    _metrics_dir()


_CREATED_DIR: list[str] = []


def _metrics_dir() -> None:
    """/metrics over all workers: prometheus_client's multiprocess files in one directory,
    emptied at start (an operator may choose it with PROMETHEUS_MULTIPROC_DIR). Set before
    any worker starts, so every worker writes there (web/http/metrics.py)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.unlink(os.path.join(path, name))
    else:
        path = tempfile.mkdtemp(prefix="ogapi-metrics-")
        _CREATED_DIR.append(path)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    if "prometheus_client.values" in sys.modules:  # imported before the variable was set
        from prometheus_client import values

        values.ValueClass = values.get_value_class()


def child_exit(server, worker) -> None:
    """A worker ended (or was killed): drop its live gauges; its counters stay in the sums."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    for path in _CREATED_DIR:
        shutil.rmtree(path, ignore_errors=True)


def when_ready(server) -> None:
    for address in server.cfg.address:
        if isinstance(address, tuple):
            host = f"[{address[0]}]" if ":" in address[0] else address[0]
            server.log.info(
                "OG Image API listening on http://%s:%s (%s worker(s))",
                host,
                address[1],
                server.cfg.workers,
            )
    if (os.environ.get("OGAPI_ENV") or "development") != "production":
        _first_steps(server)


def _first_steps(server) -> None:
    """Once serving (development): where the dashboard is and how to get an account with data."""
    base = os.environ.get("BASE_URL", "").rstrip("/")
    for address in server.cfg.address:
        if not base and isinstance(address, tuple):
            host = str({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address[0], address[0]))  # noqa: S104 (reading the bind address, not binding)
            base = f"http://{f'[{host}]' if ':' in host else host}:{address[1]}"
    if base:
        server.log.info(
            "Dashboard: %s/dashboard (sign up there, or run `.venv/bin/ogapi demo` "
            "for an account with 90 days of sample data)",
            base,
        )
