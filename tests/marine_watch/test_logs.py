"""Residents' positions never reach the access log."""

import logging

from marine_watch.logs import RedactPosition
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
