"""InfluxQL text for the store: quoted literals and identifiers, and the statement of a query.

Every value put into a statement goes through :func:`quote_string` or :func:`quote_ident`, and
every number through ``int()``: no reading, station id or kind can change a statement's meaning.
"""

import re
from typing import Final

from sensors.reading import QcFlag

MEASUREMENT: Final = "reading"
CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def quote_string(value: str) -> str:
    """Quote a string literal for InfluxQL."""
    if CONTROL.search(value):
        msg = f"an InfluxQL string literal cannot hold control characters: {value!r}"
        raise ValueError(msg)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(value: str) -> str:
    """Quote an identifier (database name) for InfluxQL."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Flags a stored point can carry (``conflict`` is never stored): one downsampling statement each.
STORED_FLAGS: Final = tuple(f.value for f in QcFlag if f is not QcFlag.CONFLICT)


def select_statement(  # noqa: PLR0917 - the parts of one statement, as the store's query takes them
    station: str, kind: str | None, start_ns: int, end_ns: int, every_s: int | None, limit: int
) -> str:
    """Build the InfluxQL for ``InfluxStore.query``; buckets are split by kind and qc.

    ``qc`` is a field, and InfluxQL groups by tags only: a downsampled query is one statement per
    stored flag (``WHERE "qc" = 'spike' ... GROUP BY time(Ns), "kind"``), sent as one request.
    """
    where = f'"station" = {quote_string(station)}'
    if kind is not None:
        where += f' AND "kind" = {quote_string(kind)}'
    where += f" AND time >= {int(start_ns)} AND time < {int(end_ns)}"
    if every_s is None:
        return f'SELECT "value", "kind", "qc" FROM {MEASUREMENT} WHERE {where} LIMIT {int(limit)}'  # noqa: S608 - values quoted, numbers int()
    if every_s <= 0:
        msg = f"every_s must be positive, not {every_s}"
        raise ValueError(msg)
    return "; ".join(
        f'SELECT mean("value") FROM {MEASUREMENT} WHERE {where} AND "qc" = {quote_string(flag)} '  # noqa: S608 - values quoted
        f'GROUP BY time({int(every_s)}s), "kind" fill(none) LIMIT {int(limit)}'
        for flag in STORED_FLAGS
    )
