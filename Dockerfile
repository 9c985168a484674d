# syntax=docker/dockerfile:1
# geoservice: the API and the map pages, with the curated data baked in (see README "Container").
#   docker build -t geoservice .
#   docker run -p 127.0.0.1:8000:8000 geoservice                  # memory store
#   docker compose up --build                                     # with PostGIS (compose.yaml)
ARG PYTHON=3.11

# ---- build: a virtualenv with geoservice and its dependencies (wheels only, no compiler) ----
FROM python:${PYTHON}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 GEOSERVICE_CACHE_DIR=/app/cache
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY geoservice ./geoservice
# The wheel carries data/ inside the package (pyproject: force-include): the data is baked in.
COPY data ./data
# Versions are bounded in pyproject.toml (the one place they are kept), not repeated here.
# Then the data must build into a catalog (a broken plan file fails the image, not the first
# start), which also fills the parse cache (keyed by file content) the runtime stage starts from.
# hadolint ignore=DL3013
RUN pip install ".[postgis]" \
    && geoservice validate

# ---- runtime: the virtualenv (with the data), a user without privileges ----
FROM python:${PYTHON}-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 geoservice \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin geoservice
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /app/cache /app/cache
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GEOSERVICE_CACHE_DIR=/app/cache GEOSERVICE_WORKERS=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# /health answers while the process serves (liveness); /ready also checks the database.
# The start period covers loading the catalog (and extra collections) before the first answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# Workers: GEOSERVICE_WORKERS (or --workers N); the database: GEOSERVICE_DATABASE_URL.
CMD ["geoservice", "serve", "--host", "0.0.0.0", "--port", "8000"]
