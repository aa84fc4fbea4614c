"""Log set-up: structlog JSON lines with secrets, keys and positions masked in every line.

The stdlib loggers (uvicorn.*, aiomqtt's "mqtt") go through ProcessorFormatter so every line has one
format, and every line, ours and theirs, passes :func:`redact` last: keys, tokens, passwords and
resident positions never reach a log (docs/SECURITY.md, "Secrets stay secret"). Never log a raw
payload either.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, Final

import structlog

MASK: Final = "***"
#: Query parameters whose value is a secret or a position, in any URL of any log line.
_SECRET_PARAMS: Final = re.compile(
    r"(?i)(?<=[?&;])(token|key|api_key|apikey|access_token|auth|password|passwd|pass|secret|p|u"
    r"|lat|lon|latitude|longitude)=[^&\s\"'#]*"
)
#: Credentials in headers or free text: "Bearer x", "Token x", "Basic x", our keys (mw_…).
_SECRET_WORDS: Final = re.compile(
    r"(?i)\b(bearer|token|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}|\bmw_[A-Za-z0-9_-]{16,}"
)
#: user:password@ in a URL.
_USERINFO: Final = re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+@")
#: Event keys whose value is never logged.
_SECRET_KEYS: Final = frozenset(
    {"password", "passwd", "token", "secret", "key", "api_key", "authorization", "cookie"}
    | {"x-api-key", "lat", "lon", "latitude", "longitude"}
)
_known: set[str] = set()
#: Shorter configured values are not masked: they would blank ordinary words and numbers.
SECRET_MIN_CHARS: Final = 6


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember configured secrets (passwords, tokens) so that they are masked wherever they appear."""
    _known.update(v for v in values if v and len(v) >= SECRET_MIN_CHARS)


def redact_text(text: str) -> str:
    """``text`` with secrets, keys and positions masked."""
    for secret in _known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _USERINFO.sub(f"{MASK}@", text)
    return _SECRET_WORDS.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{MASK}" if m.group(1) else f"mw_{MASK}", text
    )


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, tuple | list):
        return type(value)(_clean(v) for v in value)
    if isinstance(value, dict):
        return {k: MASK if str(k).lower() in _SECRET_KEYS else _clean(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def redact(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret keys' values and secrets or positions inside any value."""
    for name, value in list(event_dict.items()):
        if name.lower() in _SECRET_KEYS and value is not None:
            event_dict[name] = MASK
        elif name not in ("timestamp", "log_level", "level", "logger"):
            event_dict[name] = _clean(value)
    return event_dict


def configure(level: str = "INFO") -> None:
    """Configure structlog and the standard logging at ``level``: JSON lines, or console on a TTY."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "mqtt"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


#: ``lat``/``lon`` query values in uvicorn's access-log arguments.
POSITION: Final = re.compile(r"(?<=[?&])(lat|lon)=[^&\s\"]*")


class RedactPosition(logging.Filter):
    """A filter for ``uvicorn.access``: ``?lat=30.6&lon=121.0`` is logged as ``?lat=-&lon=-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Blank the positions in the record's message and arguments; keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                POSITION.sub(r"\1=-", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = POSITION.sub(r"\1=-", str(record.msg))
        return True


def _use_filter(logger_name: str, kind: type[logging.Filter], *, on: bool) -> None:
    """Give the logger exactly one filter of ``kind`` (``on``), or none."""
    logger = logging.getLogger(logger_name)
    for old in [f for f in logger.filters if isinstance(f, kind)]:
        logger.removeFilter(old)
    if on:
        logger.addFilter(kind())


def install_position_filter() -> None:
    """Add the position filter once to the access logger."""
    _use_filter("uvicorn.access", RedactPosition, on=True)


class QuietWebsocketConnections(logging.Filter):
    """A filter for ``uvicorn.error``: no INFO line for each websocket that opens or closes.

    uvicorn logs ``"WebSocket /ws/risk" [accepted]`` and, through the websockets library,
    "connection open" for every client (and "connection closed" when the library sees an EOF):
    JSON lines that took about a tenth of the node's time per connection in a storm of thousands
    (BENCHMARKS.md, "The connect storm, measured apart"). Refusals (``"WebSocket ..." 403``),
    warnings and errors pass; /metrics counts the open websockets (``mw_ws_clients``).
    """

    PER_CONNECTION: Final = frozenset(
        {'%s - "WebSocket %s" [accepted]', "connection open", "connection closed"}
    )

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the INFO line of a websocket opening or closing; True for any other record."""
        return record.levelno != logging.INFO or record.msg not in self.PER_CONNECTION


def quiet_websocket_connections(quiet: bool) -> None:
    """Drop (``quiet``) or keep the per-websocket INFO lines (MARINE_WATCH_LOG_WS_CONNECTIONS)."""
    _use_filter("uvicorn.error", QuietWebsocketConnections, on=quiet)
