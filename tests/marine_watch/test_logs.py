"""Residents' positions never reach the access log."""

import logging

from marine_watch.logs import QuietWebsocketConnections, RedactPosition, quiet_websocket_connections
from marine_watch.logs import install_position_filter as install


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, msg, args, None)


def test_lat_and_lon_values_are_redacted_in_the_arguments_and_the_message() -> None:
    """uvicorn passes the path as an argument; a formatted message is redacted too."""
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "10.0.0.7",
        "GET",
        "/api/v1/risk?lat=30.605&lon=121.07",
        "1.1",
        200,
    )
    assert RedactPosition().filter(record) is True  # the line is kept, only redacted
    assert record.getMessage() == '10.0.0.7 - "GET /api/v1/risk?lat=-&lon=- HTTP/1.1" 200'
    plain = _record("GET /api/v1/risk?lon=121.07&lat=30.6&x=1")
    RedactPosition().filter(plain)
    assert plain.getMessage() == "GET /api/v1/risk?lon=-&lat=-&x=1"


def test_other_query_values_and_look_alikes_stay() -> None:
    """Only the lat and lon parameters go: ``flat=`` or a path segment named lat are kept."""
    record = _record("GET /api/v1/zones?tier=village&flat=1 /lat=2")
    RedactPosition().filter(record)
    assert record.getMessage() == "GET /api/v1/zones?tier=village&flat=1 /lat=2"


def test_install_adds_the_filter_once() -> None:
    """Installing twice (two apps in one process) leaves one filter."""
    access = logging.getLogger("uvicorn.access")
    before = [f for f in access.filters if isinstance(f, RedactPosition)]
    install()
    install()
    assert len([f for f in access.filters if isinstance(f, RedactPosition)]) == 1
    for f in access.filters[:]:
        if isinstance(f, RedactPosition) and f not in before:
            access.removeFilter(f)


def test_per_websocket_info_lines_are_dropped_refusals_and_errors_kept() -> None:
    """uvicorn's "accepted" and the library's "connection open/closed" go; a refused handshake
    (403), the same words at WARNING and other INFO lines of uvicorn.error stay."""
    quiet = QuietWebsocketConnections()

    def line(msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", level, __file__, 1, msg, args, None)

    assert not quiet.filter(line('%s - "WebSocket %s" [accepted]', "10.0.0.7:5000", "/ws/risk"))
    assert not quiet.filter(line("connection open"))
    assert not quiet.filter(line("connection closed"))
    assert quiet.filter(line('%s - "WebSocket %s" 403', "10.0.0.7:5000", "/ws/feeds"))
    assert quiet.filter(line("connection open", level=logging.WARNING))
    assert quiet.filter(line("Application startup complete."))


def test_quiet_websocket_connections_installs_one_filter_or_none() -> None:
    """Two apps in one process: the last one's setting holds, with one filter at most."""
    error = logging.getLogger("uvicorn.error")
    try:
        quiet_websocket_connections(True)
        quiet_websocket_connections(True)
        assert sum(isinstance(f, QuietWebsocketConnections) for f in error.filters) == 1
        quiet_websocket_connections(False)
        assert not any(isinstance(f, QuietWebsocketConnections) for f in error.filters)
    finally:
        quiet_websocket_connections(True)
