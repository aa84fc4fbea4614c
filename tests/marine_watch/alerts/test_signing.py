"""Signed requests: the HMAC-SHA256 header and the verifier that refuses stale or repeated ones."""

import hashlib
import hmac

import pytest

from marine_watch.alerts import signing
from marine_watch.alerts.signing import REPLAY_WINDOW_S, ReplayGuard, sign

SECRET = "s3cret"
BODY = b'{"ack": true}'
NOW = 1_795_000_000


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """As documented to receivers: ``sha256=HEX(HMAC-SHA256(secret, f"{ts}." + body))``."""
    expected = hmac.new(b"s3cret", b'1795000000.{"ack": true}', hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"
    assert sign(SECRET, NOW + 1, BODY) != sign(SECRET, NOW, BODY)
    assert sign("other", NOW, BODY) != sign(SECRET, NOW, BODY)


def test_a_fresh_correctly_signed_request_passes_once() -> None:
    replay = ReplayGuard()
    signature = sign(SECRET, NOW, BODY)
    assert replay.check(SECRET, str(NOW), signature, BODY, NOW + 10) is None
    again = replay.check(SECRET, str(NOW), signature, BODY, NOW + 11)
    assert again is not None
    assert "replayed" in again


@pytest.mark.parametrize(
    ("timestamp", "signature", "why"),
    [
        (None, "sha256=00", "unsigned request"),
        (str(NOW), None, "unsigned request"),
        ("", "sha256=00", "unsigned request"),
        ("yesterday", "sha256=00", "must be Unix seconds"),
        (str(NOW), "sha256=" + "0" * 64, "bad signature"),
    ],
)
def test_unsigned_malformed_or_forged_requests_are_refused(
    timestamp: str | None, signature: str | None, why: str
) -> None:
    reason = ReplayGuard().check(SECRET, timestamp, signature, BODY, NOW)
    assert reason is not None
    assert why in reason


def test_a_tampered_body_or_wrong_secret_is_a_bad_signature() -> None:
    signature = sign(SECRET, NOW, BODY)
    assert ReplayGuard().check(SECRET, str(NOW), signature, BODY + b" ", NOW) == "bad signature"
    assert ReplayGuard().check("other", str(NOW), signature, BODY, NOW) == "bad signature"


@pytest.mark.parametrize("skew", [REPLAY_WINDOW_S + 1, -(REPLAY_WINDOW_S + 1)])
def test_timestamps_outside_the_window_are_refused_either_way(skew: int) -> None:
    """Too old (a replay) or too far ahead (clock skew) by more than the window."""
    ts = NOW + skew
    reason = ReplayGuard().check(SECRET, str(ts), sign(SECRET, ts, BODY), BODY, NOW)
    assert reason is not None
    assert "window" in reason


def test_the_window_edge_is_inside() -> None:
    ts = NOW - REPLAY_WINDOW_S
    assert ReplayGuard().check(SECRET, str(ts), sign(SECRET, ts, BODY), BODY, NOW) is None


def test_a_bad_signature_is_not_remembered_as_seen() -> None:
    """Only accepted signatures are kept: a forged try does not block the real request."""
    replay = ReplayGuard()
    good = sign(SECRET, NOW, BODY)
    assert replay.check("wrong", str(NOW), good, BODY, NOW) == "bad signature"
    assert replay.check(SECRET, str(NOW), good, BODY, NOW) is None


def test_the_seen_set_is_bounded_oldest_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing, "SEEN_MAX", 3)
    replay = ReplayGuard()
    sent = [(NOW + i, sign(SECRET, NOW + i, BODY)) for i in range(4)]
    for ts, sig in sent:
        assert replay.check(SECRET, str(ts), sig, BODY, NOW) is None
    first_ts, first_sig = sent[0]
    assert replay.check(SECRET, str(first_ts), first_sig, BODY, NOW) is None  # forgotten
    last_ts, last_sig = sent[-1]
    assert replay.check(SECRET, str(last_ts), last_sig, BODY, NOW) is not None
