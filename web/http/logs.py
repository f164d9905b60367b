"""Logging, configured by the app factory (so it holds under gunicorn too): text lines by
default, or one JSON object per line with `LOG_FORMAT=json`
(docs/operations.md#logs-and-request-ids).

In JSON mode each request is one `ogapi.access` line with `request_id`, `method`, `route`,
`path`, `status`, `duration_ms` and `remote` (web/http/middleware.py writes it; gunicorn's own
access log is off then), and every other record carries the fields passed as `extra=`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FORMATS = ("text", "json")
# Attributes every LogRecord has: what is left over was passed as `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Send the service's records to stderr, once per process. Leaves alone a process whose
    logging someone else set up (a test runner, gunicorn with LOG_FORMAT=json, an embedder)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)


def gunicorn_logconfig(fmt: str, level: str) -> dict | None:
    """gunicorn's `logconfig_dict` for JSON: its own lines (boot, worker exits) as JSON too, and
    the root logger set up in the arbiter, before the workers fork."""
    if fmt != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "web.http.logs.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": [], "propagate": True, "level": level},
            "gunicorn.access": {"handlers": [], "propagate": True, "level": level},
        },
    }
