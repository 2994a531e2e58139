# syntax=docker/dockerfile:1
# The pointcharge API. docs/DEPLOY.md explains the configuration, the proxy and the database.
#
#   docker build -t pointcharge .
#   docker run --env-file /etc/pointcharge/pointcharge.env -p 8000:8000 pointcharge
#
# The base image is pinned to a Python minor version and a Debian release; for byte-for-byte
# reproducible builds pin its digest too (python:3.11-slim-bookworm@sha256:…) and let a bot bump it.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/pointcharge
# Only what the package needs: no tests, no .env, no local database (see .dockerignore too).
COPY pyproject.toml README.md ./
COPY api ./api
COPY schema ./schema
COPY services ./services
COPY sandbox ./sandbox
COPY migrations ./migrations
RUN /opt/pointcharge/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
# Configuration (secrets included) comes from the environment at run time, never from the image.
ENV PATH=/opt/pointcharge/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    POINTCHARGE_MODE=production
RUN groupadd --system --gid 10001 pointcharge \
    && useradd --system --uid 10001 --gid pointcharge --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin pointcharge
COPY --from=build /opt/pointcharge /opt/pointcharge
WORKDIR /srv/pointcharge
# Uploads' default folder (POINTCHARGE_STORAGE_URL=./pointcharge-files): mount a volume here, or
# use object storage (s3://…, gs://…) with more than one container.
RUN mkdir pointcharge-files && chown 10001:10001 pointcharge-files
USER 10001:10001
EXPOSE 8000
# Liveness only (the process answers); /readyz is for the load balancer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Workers: WEB_CONCURRENCY (about one per core). Trusted proxies: FORWARDED_ALLOW_IPS.
CMD ["pointcharge", "serve", "--host", "0.0.0.0", "--port", "8000"]
