"""Health, metrics and dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import DutyOfficer, HealthRateLimited, RateLimited
from sensors.payload import Reason

router = APIRouter()


@router.get(
    "/health",
    tags=["ops"],
    dependencies=[HealthRateLimited],
    response_model=answers.Health,
    responses={503: {"model": answers.Health, "description": "the broker or the store is down"}},
)
async def health(services: ServicesDep) -> JSONResponse:
    """Liveness and the state of each dependency; 503 when the broker or the store is down or
    refuses the service's account (``store.problem`` says so).

    ``freshness`` is the age of the colours this node answers with. An API node is healthy while it
    follows the broker, even when its colours are stale: it then answers "no data", truthfully.
    """
    store_ok = await services.store.ping()
    if services.mirrored is not None:
        mqtt_ok = services.mirrored.mirror.connected.is_set()
    else:
        mqtt_ok = services.ingest.connected.is_set()
    body = {
        "status": "ok" if store_ok and mqtt_ok else "degraded",
        "node_role": services.settings.node_role,
        "mqtt": "connected" if mqtt_ok else "disconnected",
        "mqtt_brokers": services.brokers.status(),
        "store": {
            "kind": services.store.name,
            "reachable": store_ok,
            "problem": getattr(services.store, "problem", None),
        },
        "spool_pending_batches": services.spool.pending,
        "last_evaluation_s": services.pipeline.evaluated_s,
        "now_s": services.clock.now(),
        "freshness": services.pipeline.freshness(),
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/metrics", tags=["ops"], response_class=Response, dependencies=[RateLimited])
async def metrics(services: ServicesDep) -> Response:
    """Prometheus metrics."""
    services.metrics.mqtt_backlog.set(services.ingest.backlog())
    stored = await services.dead_letters.counts()
    for reason in {*stored, *(r.value for r in Reason)}:
        services.metrics.dead_letters_stored.labels(reason).set(stored.get(reason, 0))
    services.metrics.dead_letters_pruned.set(services.dead_letters.pruned)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/dead-letters", tags=["ops"], response_model=answers.DeadLetters)
async def dead_letters(
    services: ServicesDep,
    _who: DutyOfficer,
    reason: Annotated[
        str | None,
        Query(pattern=r"^[a-z_]{1,40}$", description="e.g. not_json, conflict, bad_forecast"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, object]:
    """Payloads that could not become readings, newest first, with topic, time, raw bytes and reason."""
    items = await services.dead_letters.query(reason=reason, limit=limit, before_id=before_id)
    return {"count": len(items), "items": items}
