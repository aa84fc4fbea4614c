"""Keep residents' positions out of logs: redact lat/lon query values in access-log lines."""

import logging
import re

POSITION = re.compile(r"(?<=[?&])(lat|lon)=[^&\s\"]*")


class RedactPosition(logging.Filter):
    """A filter for ``uvicorn.access``: `?lat=30.6&lon=121.0` is logged as `?lat=-&lon=-`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                POSITION.sub(r"\1=-", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = POSITION.sub(r"\1=-", str(record.msg))
        return True


def install() -> None:
    """Add the filter once to the access logger."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactPosition) for f in access.filters):
        access.addFilter(RedactPosition())
