"""InfluxStore's pure parts (line protocol, InfluxQL quoting) and its mapping of failures to errors."""

import asyncio
import json
import math
import uuid
from typing import cast

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marine_watch.errors import StoreRejected, StoreUnavailable
from marine_watch.store.influx import InfluxStore, encode_line, encode_lines
from marine_watch.store.influxql import quote_ident, quote_string, select_statement
from sensors.reading import Reading
from tests.services import Influx

T0 = 1_700_000_000_123_456_789


def parse_line(line: str) -> tuple[str, dict[str, str], dict[str, str], int]:
    """Split one line of line protocol into measurement, tags, fields and time (reference).

    Outside quotes a backslash escapes the next character and commas and spaces separate; inside a
    double-quoted field value only ``\\"`` and ``\\\\`` are escapes.
    """
    parts: list[str] = []
    current: list[str] = []
    chars = iter(line)
    quoted, section, previous = False, 0, ""  # sections: measurement and tags, fields, time
    for char in chars:
        if quoted:
            if char == "\\":
                nxt = next(chars)
                current.append(nxt if nxt in '"\\' else "\\" + nxt)
            elif char == '"':
                quoted = False
            else:
                current.append(char)
        elif char == "\\":
            current.append(next(chars))
        elif char == '"' and section == 1 and previous == "=":
            quoted = True
        elif char in ", ":
            section += char == " "
            parts.append("".join(current))
            parts.append(char)
            current = []
        else:
            current.append(char)
        previous = char
    parts.append("".join(current))
    spaces = [i for i, p in enumerate(parts) if p == " "]
    assert len(spaces) == 2, line
    head = parts[: spaces[0]]
    tags = dict(p.split("=", 1) for p in head[2::2])  # '=' inside a value was escaped
    body = parts[spaces[0] + 1 : spaces[1]]
    fields = dict(p.split("=", 1) for p in body[::2])
    return head[0], tags, fields, int(parts[spaces[1] + 1])


def test_line_has_measurement_sorted_tags_float_field_and_ns_time() -> None:
    """A reading becomes one line: measurement, kind/station tags, qc and float value fields, ns time."""
    line = encode_line(Reading("PH01", "tide_level", T0, 3.25, "ok"))
    assert line == f'reading,kind=tide_level,station=PH01 qc="ok",value=3.25 {T0}'


def test_lines_end_with_newlines() -> None:
    """A batch is one line per reading, each ending in a newline, as bytes."""
    body = encode_lines([Reading("a", "k", 1, 1.5), Reading("b", "k", 2, 2.5)])
    assert (
        body
        == b'reading,kind=k,station=a qc="ok",value=1.5 1\nreading,kind=k,station=b qc="ok",value=2.5 2\n'
    )
    assert encode_lines([]) == b""


@pytest.mark.parametrize(
    ("station", "escaped"),
    [
        ("a b", r"a\ b"),
        ("a,b", r"a\,b"),
        ("a=b", r"a\=b"),
        ("a, =b", r"a\,\ \=b"),
        ("o'brien\"", "o'brien\""),
        ("乍浦", "乍浦"),
    ],
)
def test_tag_separators_are_escaped(station: str, escaped: str) -> None:
    """Comma, space and equals sign in a tag value are escaped with a backslash; nothing else is."""
    line = encode_line(Reading(station, "tide_level", 0, 1.0))
    assert line.endswith(f',station={escaped} qc="ok",value=1.0 0')


@pytest.mark.parametrize(
    "station",
    ["", "back\\slash", "new\nline", "carriage\rreturn", "tab\t", "nul\x00", "del\x7f", "\ud800"],
)
def test_unencodable_tag_values_raise_value_error(station: str) -> None:
    """An empty tag, a backslash or a line break cannot be written unambiguously: ValueError."""
    with pytest.raises(ValueError, match="station"):
        encode_line(Reading(station, "tide_level", 0, 1.0))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3.0"),
        (0, "0.0"),
        (-2, "-2.0"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e-9, "1e-09"),
        (1e20, "1e+20"),
        (-0.0, "-0.0"),
    ],
)
def test_values_are_floats_in_shortest_round_trip_form(value: float, text: str) -> None:
    """Integers are written as floats (never the ``i`` integer type) and every float round-trips."""
    assert (
        encode_line(Reading("a", "k", 0, value))
        == f'reading,kind=k,station=a qc="ok",value={text} 0'
    )
    assert float(text) == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_raise_value_error(value: float) -> None:
    """NaN and infinities have no line-protocol form: ValueError."""
    with pytest.raises(ValueError, match="finite"):
        encode_line(Reading("a", "k", 0, value))


@pytest.mark.parametrize("ts", [T0, -1, 0, 2**63 - 1])
def test_timestamps_are_integer_nanoseconds(ts: int) -> None:
    """The time is written as the integer ns it is, whatever its size."""
    assert encode_line(Reading("a", "k", ts, 1.0)).endswith(f" {ts}")


@pytest.mark.parametrize("ts", [1.5, True])
def test_non_integer_timestamps_raise_value_error(ts: float) -> None:
    """A float or bool time is a caller mistake: ValueError."""
    with pytest.raises(ValueError, match="ts_ns"):
        encode_line(Reading("a", "k", cast(int, ts), 1.0))  # cast: the mistake under test


tag_text = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\\"), min_size=1, max_size=20
)


@given(
    station=tag_text,
    qc=tag_text,
    ts=st.integers(-(2**62), 2**62),
    value=st.floats(allow_nan=False, allow_infinity=False),
)
def test_line_protocol_round_trips(station: str, qc: str, ts: int, value: float) -> None:
    """Parsing an encoded line gives back the station, time, qc and exact value."""
    measurement, tags, fields, time_ns = parse_line(
        encode_line(Reading(station, "k", ts, value, qc))
    )
    assert (measurement, tags, time_ns) == ("reading", {"kind": "k", "station": station}, ts)
    assert fields.keys() == {"qc", "value"}
    assert fields["qc"] == qc
    assert float(fields["value"]) == value


@pytest.mark.services
@settings(max_examples=30)  # each example is a round trip through the server
@given(station=tag_text, value=st.floats(allow_nan=False, allow_infinity=False))
def test_influxdb_reads_back_what_was_encoded(influxd: Influx, station: str, value: float) -> None:
    """The real InfluxDB parses an encoded line into the same station and value."""
    db = f"t_{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=influxd.url, timeout=10.0) as http:
        http.post("/query", params={"q": f"CREATE DATABASE {quote_ident(db)}"}).raise_for_status()
        try:
            body = encode_lines([Reading(station, "k", T0, value)])
            written = http.post("/write", params={"db": db, "precision": "ns"}, content=body)
            assert written.status_code == httpx.codes.NO_CONTENT, written.text
            q = f'SELECT "value", "station" FROM reading WHERE "station" = {quote_string(station)}'
            answer = http.get("/query", params={"db": db, "q": q, "epoch": "ns"}).json()
        finally:
            http.post("/query", params={"q": f"DROP DATABASE {quote_ident(db)}"})
    ((ts, stored, stored_station),) = answer["results"][0]["series"][0]["values"]
    assert (ts, float(stored), stored_station) == (
        T0,
        value,
        station,
    )  # Go may write 1e16 as 10000000000000000


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("PH01", "'PH01'"),
        ("o'brien", r"'o\'brien'"),
        ("a\\b", r"'a\\b'"),
        ("x' OR '1'='1", r"'x\' OR \'1\'=\'1'"),
    ],
)
def test_influxql_strings_are_quoted(text: str, quoted: str) -> None:
    """Single quotes and backslashes in a string literal are escaped, so a station id cannot inject."""
    assert quote_string(text) == quoted


def test_select_downsamples_on_the_server() -> None:
    """every_s becomes GROUP BY time(Ns) by kind, one statement per stored qc flag (a field)."""
    statements = select_statement("PH01", "tide_level", 0, 10, 60, 100).split("; ")
    assert statements[0] == (
        'SELECT mean("value") FROM reading WHERE "station" = \'PH01\' AND "kind" = \'tide_level\' '
        'AND time >= 0 AND time < 10 AND "qc" = \'ok\' GROUP BY time(60s), "kind" fill(none) LIMIT 100'
    )
    flags = [s.split('"qc" = ')[1].split(" ")[0] for s in statements]
    assert flags == ["'ok'", "'range'", "'spike'", "'flatline'", "'duplicate'", "'future'"]


def mock_store(
    handler: httpx.MockTransport,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> InfluxStore:
    return InfluxStore(
        "http://influx.invalid:8086",
        "marine",
        token=token,
        username=username,
        password=password,
        transport=handler,
    )


def answering(status: int, body: object = None) -> httpx.MockTransport:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.MockTransport(lambda request: httpx.Response(status, content=content))


def raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


READING = Reading("PH01", "tide_level", T0, 1.0)


@pytest.mark.parametrize("status", [500, 502, 503, 401, 403, 408, 429])
async def test_server_side_failures_raise_store_unavailable(status: int) -> None:
    """5xx, auth, timeout and rate-limit answers are not the batch's fault: StoreUnavailable (retry, spool)."""
    async with mock_store(answering(status, {"error": "busy"})) as store:
        with pytest.raises(StoreUnavailable, match=f"{status} busy"):
            await store.write([READING])


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
async def test_transport_failures_raise_store_unavailable(exc: Exception) -> None:
    """Connect errors, timeouts and broken connections raise StoreUnavailable; ping says False."""
    async with mock_store(raising(exc)) as store:
        with pytest.raises(StoreUnavailable):
            await store.write([READING])
        with pytest.raises(StoreUnavailable):
            await store.query("PH01", None, 0, T0)
        assert not await store.ping()


async def test_bad_request_raises_store_rejected_with_the_servers_message() -> None:
    """A 400 means the batch itself is bad: StoreRejected, carrying InfluxDB's reason."""
    answer = answering(400, {"error": "unable to parse 'x': missing fields"})
    async with mock_store(answer) as store:
        with pytest.raises(StoreRejected, match="unable to parse 'x': missing fields"):
            await store.write([READING])


async def test_unencodable_batch_raises_store_rejected_without_a_request() -> None:
    """A NaN in the batch is rejected before anything is sent."""
    async with mock_store(raising(AssertionError("no request expected"))) as store:
        with pytest.raises(StoreRejected, match="finite"):
            await store.write([READING, Reading("PH01", "tide_level", T0 + 1, math.nan)])


async def test_query_error_inside_a_200_raises_store_rejected() -> None:
    """InfluxQL reports a statement's error inside a 200 answer: StoreRejected."""
    async with mock_store(
        answering(200, {"results": [{"error": "database not found: x"}]})
    ) as store:
        with pytest.raises(StoreRejected, match="database not found"):
            await store.count()


async def test_an_answer_that_is_not_influxdb_raises_store_unavailable() -> None:
    """A 200 that is not InfluxDB's JSON (a proxy page) raises StoreUnavailable."""
    page = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    async with mock_store(page) as store:
        with pytest.raises(StoreUnavailable, match="unexpected answer"):
            await store.query("PH01", None, 0, T0)


async def test_token_and_line_protocol_reach_the_server() -> None:
    """A write POSTs line protocol to /write with db and ns precision and the token header."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with mock_store(httpx.MockTransport(handler), token="s3cret") as store:
        await store.write([READING])
    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/write")
    assert dict(request.url.params) == {"db": "marine", "precision": "ns"}
    assert request.headers["Authorization"] == "Token s3cret"
    assert request.content == encode_lines([READING])


async def test_username_and_password_go_in_the_authorization_header_never_the_url() -> None:
    """InfluxDB 1.x credentials are sent as HTTP Basic auth, never as u/p URL parameters (logged)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": [{"statement_id": 0}]})

    async with mock_store(httpx.MockTransport(handler), username="mw", password="pw") as store:
        assert await store.count() == 0
    assert "u" not in seen[0].url.params
    assert "p" not in seen[0].url.params
    assert "pw" not in str(seen[0].url)
    assert seen[0].headers["Authorization"] == "Basic bXc6cHc="  # base64("mw:pw")


@pytest.mark.services
async def test_stopped_influxdb_raises_store_unavailable_until_it_is_back(
    private_influxd: Influx,
) -> None:
    """With this test's own InfluxDB stopped, writes and queries raise StoreUnavailable; after a restart they work."""
    async with InfluxStore(private_influxd.url, "marine") as store:
        await store.create_database()
        await store.write([READING])
        await asyncio.to_thread(
            private_influxd.stop
        )  # process control blocks: keep it off the loop
        assert not await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.write([READING])
        with pytest.raises(StoreUnavailable):
            await store.query("PH01", None, 0, T0 + 1)
        await asyncio.to_thread(private_influxd.start)
        await store.write([Reading("PH01", "tide_level", T0 + 1, 2.0)])
        assert await store.count() == 2
