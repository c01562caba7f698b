"""Structured (JSON) logs: every line carries the request id, tenant and user when known."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from jimu_sdk.context import current_scope

# Record attributes that are not context (uvicorn adds an ANSI-coloured copy of its message).
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        scope = current_scope()
        context: dict[str, object] = {}
        if scope is not None:
            context = {"request_id": scope.request_id or None, "tenant": scope.tenant_id,
                       "user": scope.user_id}
        entry: dict[str, object] = {**context, **base}
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("dramatiq", "piccolo", "uvicorn.access"):
        logging.getLogger(noisy).setLevel("WARNING")
