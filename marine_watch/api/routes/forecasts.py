"""Forecasts from the forecast office: surge high waters, typhoon wind and waves (HTTP input)."""

from collections.abc import Callable

from fastapi import APIRouter, HTTPException

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import Forecaster, RateLimited
from marine_watch.auth.keys import Principal
from marine_watch.inputs.forecasts import (
    ForecastIn,
    WindForecastIn,
    forecast_dict,
    wind_forecast_dict,
)
from marine_watch.inputs.wave_forecasts import WaveForecastIn, wave_forecast_dict
from marine_watch.services import Services

router = APIRouter(prefix="/api/v1")


@router.post(
    "/forecasts",
    tags=["forecasts"],
    status_code=201,
    response_model=answers.SurgeForecastMade,
)
async def post_forecast(
    body: ForecastIn, services: ServicesDep, who: Forecaster
) -> dict[str, object]:
    """A storm-surge forecast for one station: with readings the higher of it and persistence sets
    the colour, without readings the forecast alone (every high water within the 24 h outlook).

    422 when ``issued`` is in the future (beyond the clock tolerance) or older than the maximum
    age. The public sees the key's forecaster name (config/mqtt_accounts.toml), not ``source``."""
    book = services.full.forecasts
    return _accepted(services, who, lambda source: forecast_dict(book.put(body, source)))


@router.get(
    "/forecasts",
    tags=["forecasts"],
    dependencies=[RateLimited],
    response_model=list[answers.SurgeForecast],
)
async def list_forecasts(services: ServicesDep) -> list[dict[str, object]]:
    """The latest external forecast of each station."""
    return [forecast_dict(f) for f in services.full.forecasts.latest.values()]


@router.post(
    "/forecasts/wind",
    tags=["forecasts"],
    status_code=201,
    response_model=answers.WindForecastMade,
)
async def post_wind_forecast(
    body: WindForecastIn, services: ServicesDep, who: Forecaster
) -> dict[str, object]:
    """A typhoon wind forecast for one station: the CMA typhoon signal criteria with their lead
    times (24/24/12/6 h) then set its wind colour, with or without its own readings."""
    book = services.full.forecasts
    return _accepted(services, who, lambda source: wind_forecast_dict(book.put_wind(body, source)))


@router.get(
    "/forecasts/wind",
    tags=["forecasts"],
    dependencies=[RateLimited],
    response_model=list[answers.WindForecast],
)
async def list_wind_forecasts(services: ServicesDep) -> list[dict[str, object]]:
    """The latest typhoon wind forecast of each station."""
    book = services.full.forecasts
    return [wind_forecast_dict(f) for f in book.wind.values()]


@router.post(
    "/forecasts/waves",
    tags=["forecasts"],
    status_code=201,
    response_model=answers.WaveForecastMade,
)
async def post_wave_forecast(
    body: WaveForecastIn, services: ServicesDep, who: Forecaster
) -> dict[str, object]:
    """A wave forecast (Hs, Tp) for one wave station: it sets the waves colour (the higher of it and
    the observations, docs/DOMAIN.md §1.6), their outlook, and the overtopping outlook of the dikes
    that station serves, with or without its own readings."""
    book = services.full.forecasts
    return _accepted(services, who, lambda source: wave_forecast_dict(book.put_waves(body, source)))


@router.get(
    "/forecasts/waves",
    tags=["forecasts"],
    dependencies=[RateLimited],
    response_model=list[answers.WaveForecast],
)
async def list_wave_forecasts(services: ServicesDep) -> list[dict[str, object]]:
    """The latest wave forecast of each station."""
    book = services.full.forecasts
    return [wave_forecast_dict(f) for f in book.waves.values()]


def _accepted(
    services: "Services", who: Principal, put: Callable[[str], dict[str, object]]
) -> dict[str, object]:
    """Keep a forecast under the sender's public name (``put(source)`` answers it), or 422 with the
    reason it is not believable; then evaluate at once."""
    source = services.full.forecasters.source_of(who.name)
    try:
        answer = put(source)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    services.pipeline.request_evaluation()
    return {**answer, "by": who.name}
