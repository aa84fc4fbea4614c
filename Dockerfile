FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies and code first, config last: editing config/ does not reinstall anything.
COPY pyproject.toml README.md ./
COPY risk_models ./risk_models
COPY sensors ./sensors
COPY marine_watch ./marine_watch
RUN pip install . && rm -rf build ./*.egg-info

COPY config ./config

RUN useradd --system --uid 10001 --no-create-home --home-dir /app marine \
    && mkdir -p /app/data \
    && chown marine /app/data
USER marine

VOLUME ["/app/data"]
EXPOSE 8000

CMD ["marine-watch", "serve"]
