"""InfluxQL text: literals and identifiers quoted, and the statement of a raw or downsampled query
(tests/marine_watch/store/test_influx.py checks string quoting against injection and runs the
statements on a real InfluxDB)."""

import pytest

from marine_watch.store.influxql import quote_ident, quote_string, select_statement


@pytest.mark.parametrize("text", ["a\x00b", "line\nbreak", "tab\there", "del\x7f"])
def test_a_string_literal_refuses_control_characters(text: str) -> None:
    """InfluxQL cannot quote them: such a value never reaches a statement."""
    with pytest.raises(ValueError, match="control characters"):
        quote_string(text)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("marine", '"marine"'), ('my"db', r'"my\"db"'), ("a\\b", r'"a\\b"')],
)
def test_an_identifier_escapes_double_quotes_and_backslashes(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_a_raw_query_reads_every_kind_up_to_the_limit_with_the_end_excluded() -> None:
    assert select_statement("PH01", None, 5, 10, None, 7) == (
        'SELECT "value", "kind", "qc" FROM reading WHERE "station" = \'PH01\' '
        "AND time >= 5 AND time < 10 LIMIT 7"
    )


def test_without_a_kind_the_downsampled_statements_group_by_kind_only() -> None:
    statements = select_statement("PH01", None, 0, 10, 60, 100).split("; ")
    assert statements[0] == (
        'SELECT mean("value") FROM reading WHERE "station" = \'PH01\' AND time >= 0 AND time < 10 '
        'AND "qc" = \'ok\' GROUP BY time(60s), "kind" fill(none) LIMIT 100'
    )
    assert all('"kind" = ' not in s for s in statements)


@pytest.mark.parametrize("every_s", [0, -60])
def test_a_bucket_width_must_be_positive(every_s: int) -> None:
    with pytest.raises(ValueError, match="every_s must be positive"):
        select_statement("PH01", "tide_level", 0, 10, every_s, 100)
