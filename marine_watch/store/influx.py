"""InfluxDB store over the v1 HTTP API (``POST /write``, InfluxQL ``GET /query``).

The v1 API is served by InfluxDB 1.x (username/password) and by 2.x/3.x in compatibility mode
(``Authorization: Token ...``), so one client covers all three. Credentials go in the
``Authorization`` header only (``Basic`` for 1.x, ``Token`` for 2.x/3.x), never in URL parameters,
which servers and proxies log.

Every reading is one point: measurement ``reading``, tags ``kind``, ``station``, fields ``value``
(float) and ``qc`` (string), and the reading time in ns. InfluxDB keys a point by measurement + tag
set + time, so a point is keyed by (station, kind, time) whatever flag it carries: a replay (MQTT
redelivery, spool) overwrites its point instead of adding a second one, and no flag can make a
second series beside the first. (Before, ``qc`` was a tag; docs/ARCHITECTURE.md §4 has the migration.)
A field cannot be grouped by, so a downsampled query runs one statement per flag, in one request.

Errors (``marine_watch.errors``): connect, timeout, 5xx, 401/403, 404 (no database), 408 and 429
raise ``StoreUnavailable`` (retry, then spool: the batch itself is fine); any other 4xx and a
reading that cannot be encoded raise ``StoreRejected`` with the server's message.
"""

import math
import re
from collections.abc import Iterable, Sequence
from typing import Final, Required

import httpx
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from marine_watch.errors import StoreRejected, StoreUnavailable
from marine_watch.store import SeriesPoint
from marine_watch.store.influxql import (
    MEASUREMENT,
    STORED_FLAGS,
    quote_ident,
    quote_string,
    select_statement,
)
from sensors.reading import Batch, Block, Reading

DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=3.0)
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=8, max_keepalive_connections=4)
# Not the batch's fault: a fixed token, a created database or a calmer server will take it later.
RETRYABLE_4XX: Final = frozenset({401, 403, 404, 408, 429})


class Series(TypedDict, total=False):
    """One series of an InfluxQL answer (``epoch=ns``: times are integers)."""

    name: str
    columns: Required[list[str]]
    values: list[list[int | float | str | None]]
    tags: dict[str, str]


class Result(TypedDict, total=False):
    """One statement's result in an InfluxDB /query answer."""

    series: list[Series]
    error: str


class Answer(TypedDict, total=False):
    """An InfluxDB /query answer."""

    results: list[Result]
    error: str


class ErrorBody(TypedDict):
    """An InfluxDB error answer."""

    error: str


ANSWER: Final = TypeAdapter(Answer)
ERROR_BODY: Final = TypeAdapter(ErrorBody)

# A backslash before an escaped character (or at the end) is ambiguous in line protocol, a line break
# ends the line, InfluxQL cannot quote NUL, 1.x turns DEL into "", and UTF-8 has no lone surrogates.
# None of them belongs in a station id, kind or qc flag, so SqliteStore refuses them too.
UNWRITABLE: Final = re.compile(r"[\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TAG_ESCAPES: Final = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})


def storable(value: str) -> bool:
    """True if the value can be a tag: a station id, kind or qc flag that a store can hold."""
    return bool(value) and not UNWRITABLE.search(value)


def _tag(name: str, value: str) -> str:
    if not storable(value):
        msg = f"tag {name}={value!r} cannot be written as line protocol"
        raise ValueError(msg)
    return value.translate(_TAG_ESCAPES)


def _float(value: float) -> str:
    number = float(value)
    if not math.isfinite(number):
        msg = f"value {value!r} is not finite"
        raise ValueError(msg)
    return repr(number)  # shortest round-trip form; always has "." or "e", never an integer field


def encode_line(reading: Reading) -> str:
    """Encode one reading as a line of InfluxDB line protocol (tags in sorted order)."""
    if isinstance(reading.ts_ns, bool) or not isinstance(reading.ts_ns, int):
        msg = f"ts_ns {reading.ts_ns!r} is not an integer"
        raise ValueError(msg)
    station = _tag("station", reading.station)
    return (
        f"{MEASUREMENT},kind={_tag('kind', reading.kind)},station={station} "
        f"qc={_string_field('qc', reading.qc)},value={_float(reading.value)} {reading.ts_ns}"
    )


def encode_lines(readings: Iterable[Reading]) -> bytes:
    """Encode readings as line protocol, one line each; raise ValueError for one that cannot be.

    The same lines as :func:`encode_line`, with the measurement and tags encoded once per
    (kind, qc, station) of the batch rather than once per reading; a :class:`Batch` is encoded
    block by block, from its columns.
    """
    if isinstance(readings, Batch):
        return "".join([_block_lines(block) for block in readings.blocks]).encode()
    prefixes: dict[tuple[str, str, str], str] = {}
    lines = []
    for r in readings:
        if type(r.ts_ns) is not int:  # checks in encode_line's order: time, tags, value
            lines.append(encode_line(r) + "\n")  # raises ValueError with the reason, or encodes
            continue
        key = (r.kind, r.qc, r.station)
        prefix = prefixes.get(key)
        if prefix is None:
            prefix = prefixes[key] = _prefix(*key)
        lines.append(f"{prefix}{_float(r.value)} {r.ts_ns}\n")
    return "".join(lines).encode()


def _block_lines(block: Block) -> str:
    """The lines of one series' readings; the per-reading checks run once over each column."""
    ts, values, qc = block.ts_ns, block.values, block.qc
    plain = (
        set(map(type, ts)) == {int}
        and set(map(type, values)) == {float}
        and all(map(math.isfinite, values))
    )
    if not plain:  # an odd value: the reading-by-reading path says which one and why
        return encode_lines(block.readings()).decode()
    if qc.count(qc[0]) == len(qc):  # one flag for the whole block, the usual case
        prefix = _prefix(block.kind, qc[0], block.station)
        return "".join([f"{prefix}{v!r} {t}\n" for v, t in zip(values, ts, strict=True)])
    prefixes = {flag: _prefix(block.kind, flag, block.station) for flag in set(qc)}
    return "".join([f"{prefixes[q]}{v!r} {t}\n" for v, t, q in zip(values, ts, qc, strict=True)])


def _prefix(kind: str, qc: str, station: str) -> str:
    return f"{MEASUREMENT},kind={_tag('kind', kind)},station={_tag('station', station)} qc={_string_field('qc', qc)},value="


def _string_field(name: str, value: str) -> str:
    """A string field value, quoted; the same characters as in a tag are refused."""
    if not storable(value):
        msg = f"field {name}={value!r} cannot be written as line protocol"
        raise ValueError(msg)
    return '"' + value.replace('"', '\\"') + '"'


class InfluxStore:
    """Store readings in InfluxDB through its v1 HTTP API, with one pooled ``httpx.AsyncClient``."""

    name = "influxdb"

    def __init__(
        self,
        url: str,
        db: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.problem: str | None = None  # why the last ping failed when InfluxDB refused us
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username and not token else None
        self._http = httpx.AsyncClient(
            base_url=url,
            headers=headers,
            auth=auth,
            timeout=timeout,
            limits=limits,
            transport=transport,
        )

    async def __aenter__(self) -> "InfluxStore":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _request(
        self, method: str, path: str, params: dict[str, str], content: bytes | None = None
    ) -> httpx.Response:
        if self._http.is_closed:
            msg = f"influxdb {method} {path}: store is closed"
            raise StoreUnavailable(msg)
        try:
            return await self._http.request(method, path, params=params, content=content)
        except httpx.TransportError as exc:  # connect, read, write, pool, timeout
            msg = f"influxdb {method} {path}: {type(exc).__name__}: {exc}"
            raise StoreUnavailable(msg) from exc

    async def _send(
        self, method: str, path: str, params: dict[str, str], content: bytes | None = None
    ) -> httpx.Response:
        return _checked(await self._request(method, path, params, content))

    async def write(self, readings: Sequence[Reading]) -> None:
        """POST the batch as one line-protocol body; the server answers 204 once it is in its WAL."""
        if not readings:
            return
        try:
            body = encode_lines(readings)
        except ValueError as exc:
            msg = f"batch cannot be encoded: {exc}"
            raise StoreRejected(msg) from exc
        params = {"db": self.db, "precision": "ns"}
        response = await self._request("POST", "/write", params, body)
        if response.status_code == httpx.codes.NOT_FOUND:
            # 1.x answers 404 when the database is missing, e.g. InfluxDB was down at start-up
            # or was reset: create it and write again, once.
            try:
                await self.create_database()
            except StoreRejected as exc:  # 2.x/3.x: buckets are made by an admin, not by us
                msg = f"influxdb database {self.db!r} is missing and cannot be created: {exc}"
                raise StoreUnavailable(msg) from exc
            response = await self._request("POST", "/write", params, body)
        _checked(response)

    async def _influxql(self, statement: str, *, post: bool = False) -> list[Series]:
        """Run one statement and return the series of its result (raise StoreRejected on its error)."""
        return (await self._influxql_all(statement, post=post))[0]

    async def _influxql_all(self, statement: str, *, post: bool = False) -> list[list[Series]]:
        """Run statements (``;``-separated) and return the series of each result, in order."""
        params = {"db": self.db, "q": statement, "epoch": "ns"}
        response = await self._send("POST" if post else "GET", "/query", params)
        try:
            answer = ANSWER.validate_json(response.content)
        except ValidationError as exc:  # a proxy's error page, or not InfluxDB at all
            msg = f"influxdb query: unexpected answer: {response.text[:200]!r}"
            raise StoreUnavailable(msg) from exc
        results = answer.get("results") or [Result()]
        error = answer.get("error") or next((r["error"] for r in results if r.get("error")), None)
        if error:
            msg = f"influxdb query: {error}"
            raise StoreRejected(msg)
        return [result.get("series", []) for result in results]

    async def query(
        self,
        station: str,
        kind: str | None,
        start_ns: int,
        end_ns: int,
        *,
        every_s: int | None = None,
        limit: int = 100_000,
    ) -> list[SeriesPoint]:
        """Points of a station (one kind or all) in [start_ns, end_ns), averaged per ``every_s`` if given."""
        if not storable(station) or (kind is not None and not storable(kind)):
            return []  # no such point can have been written
        try:
            statement = select_statement(station, kind, start_ns, end_ns, every_s, limit)
        except ValueError as exc:
            raise StoreRejected(str(exc)) from exc
        results: list[tuple[list[Series], str | None]]
        if every_s is None:
            results = [(await self._influxql(statement), None)]
        else:
            answers = await self._influxql_all(statement)
            results = list(zip(answers, STORED_FLAGS, strict=True))
        points = [p for series, flag in results for s in series for p in _points(station, s, flag)]
        points.sort(key=lambda p: (p.ts_ns, p.kind, p.qc))
        return points[:limit]

    async def count(self, station: str | None = None) -> int:
        """How many values are stored (of one station, if given)."""
        if station is not None and not storable(station):
            return 0
        where = "" if station is None else f' WHERE "station" = {quote_string(station)}'
        series = await self._influxql(f'SELECT count("value") FROM {MEASUREMENT}{where}')  # noqa: S608 - station quoted
        if not series:
            return 0
        rows = series[0].get("values", [])
        return int(rows[0][1] or 0) if rows else 0

    async def ping(self) -> bool:
        """True when InfluxDB answers and lets us read our database (``/ping`` needs no account)."""
        if self._http.is_closed:
            return False
        try:
            response = await self._http.get("/ping")
            if response.status_code != httpx.codes.NO_CONTENT:
                return False
            probe = "SHOW MEASUREMENTS LIMIT 1"
            answer = await self._http.get("/query", params={"db": self.db, "q": probe})
        except httpx.TransportError:
            return False
        if answer.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            self.problem = (
                f"influxdb refused the account ({answer.status_code} {_server_message(answer)}): "
                "check MARINE_WATCH_INFLUX_USERNAME/_PASSWORD or _TOKEN"
            )
            return False
        self.problem = None
        return answer.is_success

    async def database_exists(self) -> bool:
        """Whether the database exists on the server."""
        series = await self._influxql("SHOW DATABASES")
        rows = series[0].get("values", []) if series else []
        return any(row[0] == self.db for row in rows)

    async def create_database(self) -> None:
        """Create the database unless it exists (2.x/3.x map databases to buckets instead)."""
        if not await self.database_exists():
            await self._influxql(f"CREATE DATABASE {quote_ident(self.db)}", post=True)

    async def drop_database(self) -> None:
        """Drop the database."""
        await self._influxql(f"DROP DATABASE {quote_ident(self.db)}", post=True)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()


def _checked(response: httpx.Response) -> httpx.Response:
    """Return a 2xx response; raise StoreUnavailable or StoreRejected for any other."""
    if response.is_success:
        return response
    request = response.request
    msg = f"influxdb {request.method} {request.url.path}: {response.status_code} {_server_message(response)}"
    if response.status_code >= 500 or response.status_code in RETRYABLE_4XX:
        raise StoreUnavailable(msg)
    raise StoreRejected(msg)


def _server_message(response: httpx.Response) -> str:
    try:
        return ERROR_BODY.validate_json(response.content)["error"][:500]
    except (ValidationError, KeyError):
        return response.text[:500]


def _points(station: str, series: Series, flag: str | None) -> list[SeriesPoint]:
    """Turn one result series into points; ``flag``: the qc of a downsampled statement's buckets."""
    index = {name: i for i, name in enumerate(series["columns"])}
    tags = series.get("tags", {})
    downsampled = flag is not None
    value_col = index["mean" if downsampled else "value"]
    points = []
    for row in series.get("values", []):
        ts, value = row[0], row[value_col]
        if ts is None or value is None:  # an empty bucket, should fill(none) let one through
            continue
        kind = tags["kind"] if downsampled else str(row[index["kind"]])
        qc = flag if flag is not None else str(row[index["qc"]])
        points.append(SeriesPoint(station, kind, int(ts), float(value), qc))
    return points
