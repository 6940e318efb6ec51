# Swap Tally's image: `docker build -t swaptally .`; every setting comes from the environment
# (see .env.example), and the container serves on port 8000 as an unprivileged user.

# Browser libraries come from npm, exactly as package-lock.json pins them.
FROM node:22-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

# Debian 13's PostgreSQL client (17) can dump and restore servers up to 17 (`swaptally backup`).
FROM python:3.12-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    ENVIRONMENT=production
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 swaptally \
    && useradd --system --uid 10001 --gid swaptally --home-dir /srv/swaptally \
       --shell /usr/sbin/nologin swaptally
WORKDIR /srv/swaptally
COPY pyproject.toml README.md requirements-runtime.lock ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY locale ./locale
COPY --from=assets /build/node_modules ./node_modules
# The runtime packages exactly as requirements-runtime.lock pins them (hashes checked), then the
# app itself, editable, so it finds its templates, migrations and static files beside it.
RUN python -m venv /opt/venv \
    && pip install --no-compile --require-hashes -r requirements-runtime.lock \
    && pip install --no-compile --no-deps -e . \
    && mkdir var \
    && chown swaptally:swaptally var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["swaptally", "serve", "--host", "0.0.0.0", "--port", "8000"]
