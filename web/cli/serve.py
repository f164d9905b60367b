"""`ogapi serve`: gunicorn with aiohttp's worker, configured by web/cli/gunicorn_conf.py."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from web.cli import gunicorn_conf

SETTINGS = (
    "worker_class",
    "graceful_timeout",
    "timeout",
    "keepalive",
    "accesslog",
    "logconfig_dict",
    "access_log_format",
    "control_socket_disable",
    "on_starting",
    "when_ready",
    "child_exit",
    "on_exit",
)


class Server(BaseApplication):
    """gunicorn's arbiter over `workers` processes serving web.app:gunicorn_app."""

    def __init__(self, host: str, port: int, workers: int) -> None:
        self.options = {name: getattr(gunicorn_conf, name) for name in SETTINGS}
        bind_host = f"[{host}]" if ":" in host else host
        self.options.update(bind=[f"{bind_host}:{port}"], workers=workers)
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        from web.app import gunicorn_app

        return gunicorn_app


def serve(host: str, port: int, workers: int) -> int:
    Server(host, port, workers).run()  # returns when gunicorn stops (SystemExit on errors)
    return 0
