"""Webhooks: HMAC signatures, replay refusal, durable deliveries with retries and a delivery log."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx

from marine_watch.alerts.book import AlertBook, AlertMessage
from marine_watch.alerts.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Policy,
    ReplayGuard,
    Sender,
    WebhookStore,
    sign,
)
from marine_watch.risk.zones import PlaceColour
from tests.helpers import seq

POLICY = Policy(timeout_s=1.0, max_attempts=3, backoff_s=0.01, backoff_max_s=0.05, batch=10)


def alert(zone: str = "zhapu-harbour") -> AlertMessage:
    c = PlaceColour(zone, "zone", "village", 3, "orange", {"hazard": "storm_surge"}, (), 0.0)
    message = AlertBook().on_colour(c, 1.8e9)
    assert message is not None
    return message


def test_signature_verifies_once_and_refuses_stale_or_tampered() -> None:
    """A fresh signed body passes once; a replay, an old timestamp, a changed body or none fail."""
    replay, body = ReplayGuard(window_s=300), b'{"note":"ok"}'
    good = sign("s3cret", 1000, body)
    assert replay.check("s3cret", "1000", good, body, 1010) is None
    assert "replayed" in str(replay.check("s3cret", "1000", good, body, 1010))
    assert "window" in str(replay.check("s3cret", "100", sign("s3cret", 100, body), body, 1010))
    assert (
        replay.check("s3cret", "1001", sign("s3cret", 1001, body), b"{}", 1010) == "bad signature"
    )
    assert "unsigned" in str(replay.check("s3cret", None, None, body, 1010))


async def run_until(
    sender: Sender, condition: Callable[[], Awaitable[bool]], timeout_s: float = 5.0
) -> None:
    task = asyncio.create_task(sender.run(), name="sender")
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():  # noqa: ASYNC110 - polling the store
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_failed_delivery_is_retried_until_the_receiver_accepts(tmp_path: Path) -> None:
    """A 503 then a timeout then 204: three attempts, logged, the last delivered and signed."""
    seen: list[httpx.Request] = []
    answers: Iterator[int | str] = iter([503, "timeout", 204])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(answers)
        if isinstance(answer, str):  # "timeout"
            msg = "slow"
            raise httpx.ReadTimeout(msg, request=request)
        return httpx.Response(answer)

    store = WebhookStore(tmp_path / "webhooks.sqlite3")
    await store.open()
    sub = await store.subscribe(
        "team:a", "https://team.example/hook", ("zhapu-harbour",), (), ("zone",)
    )
    assert await store.enqueue(alert(), b'{"x":1}') == 1
    assert await store.enqueue(alert("dushan"), b'{"x":2}') == 0  # another zone: not wanted
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        sender = Sender(store, http, POLICY)

        async def delivered() -> bool:
            log = await store.log(sub.id)
            return log[0]["status"] == "delivered"

        await run_until(sender, delivered)
    log = (await store.log(sub.id))[0]
    assert log["attempts"] == 3
    assert [a["http_status"] for a in seq(log["log"])] == [503, None, 204]
    last = seen[-1]
    ts = int(last.headers[TIMESTAMP_HEADER])
    assert last.headers[SIGNATURE_HEADER] == sign(sub.secret, ts, last.content)
    await store.close()


async def test_deliveries_survive_a_restart_and_fail_visibly(tmp_path: Path) -> None:
    """Spooled deliveries are still there after a restart; after max attempts they are 'failed', not gone."""
    store = WebhookStore(tmp_path / "webhooks.sqlite3")
    await store.open()
    sub = await store.subscribe("team:a", "https://team.example/hook", (), (), ("zone",))
    await store.enqueue(alert(), b"{}")
    await store.close()

    again = WebhookStore(tmp_path / "webhooks.sqlite3")
    await again.open()
    assert sub.id in again.subscriptions
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(500))
    ) as http:
        sender = Sender(again, http, POLICY)

        async def failed() -> bool:
            return (await again.log(sub.id))[0]["status"] == "failed"

        await run_until(sender, failed)
    assert (await again.log(sub.id))[0]["attempts"] == POLICY.max_attempts
    assert await again.redeliver(sub.id) == 1
    assert (await again.log(sub.id))[0]["status"] == "pending"
    await again.close()


async def test_subscription_preferences_hazards_and_minimum_colour_survive_a_reopen(
    tmp_path: Path,
) -> None:
    """Hazards and minimum colour filter zone alerts (a Cancel always passes), are kept in the
    file, and an escalation's keyed delivery is spooled once however often it is enqueued."""
    store = WebhookStore(tmp_path / "webhooks.sqlite3")
    await store.open()
    sub = await store.subscribe(
        "team:a", "https://team.example/hook", (), (), ("zone",), ("overtopping",), 3
    )
    book = AlertBook()

    def message(level: int, hazard: str) -> AlertMessage:
        c = PlaceColour("tianfei", "zone", "village", level, "x", {"hazard": hazard}, (), 0.0)
        got = book.on_colour(c, 1.8e9 + level)
        assert got is not None
        return got

    assert not sub.wants(message(2, "overtopping"))  # yellow: below orange
    assert sub.wants(message(3, "overtopping"))
    assert not sub.wants(message(4, "storm_surge"))  # another hazard
    assert sub.wants(message(0, "storm_surge"))  # the all-clear
    await store.close()
    again = WebhookStore(tmp_path / "webhooks.sqlite3")
    await again.open()
    kept = again.subscriptions[sub.id]
    assert (kept.hazards, kept.min_level) == (("overtopping",), 3)
    assert kept.public()["hazards"] == ["overtopping"]
    assert await again.enqueue_to([sub.id, "wh_gone"], "mw-1", b"{}", "mw-1:escalation1") == 1
    assert await again.enqueue_to([sub.id], "mw-1", b"{}", "mw-1:escalation1") == 0
    assert len(await again.log(sub.id)) == 1
    await again.close()
