# Descent Lab: one image that serves the page and the API with uvicorn.
#
#   docker build -t descent-lab .
#   docker run -p 8000:8000 -e WEB_CONCURRENCY=4 descent-lab
#
# The app is stateless (uploaded data travel in each request), so it scales by adding workers
# (WEB_CONCURRENCY) or by running more containers behind any load balancer. `python -m app` guards
# each worker itself (app/web/connections.py): headers over DESCENT_HEADER_MAX_BYTES (32 KiB) get
# 431, headers slower than DESCENT_HEADER_TIMEOUT (10 s) are cut off, and connections beyond
# DESCENT_MAX_CONNECTIONS (4096) per worker get 503; set them with -e like WEB_CONCURRENCY.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    NUMBA_CACHE_DIR=/app/.numba-cache \
    DESCENT_CACHE_DIR=/app/.descent-cache

WORKDIR /app

# 1. The runtime dependencies only (no test extra), in their own layer so that a change to the
#    code does not reinstall them. At this point app/ is not copied yet, so `pip install .`
#    installs the dependencies plus an empty `descent-lab` distribution: the `app` package is
#    never copied into site-packages, where app/web/pages.py would look for templates/ and
#    static/ next to site-packages and find nothing.
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir . \
    && rm -rf build descent_lab.egg-info \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin descent

# 2. The code, the page's templates and its static files. The app runs from /app (WORKDIR and
#    PYTHONPATH), so pages.py resolves /app/templates and /app/static. Owned by root and
#    read-only for the user that serves them.
COPY app/ ./app/
COPY templates/ ./templates/
COPY static/ ./static/

# 3. Compile the GD kernel of app/core/compiled.py into numba's on-disk cache now, so that no
#    worker compiles it (about a second) when it starts; the cache stays writable for the user.
RUN python -c "from app.core.descent.compiled import warm_up; warm_up()" \
    && chown -R descent /app/.numba-cache

# 4. Compress Plotly's bundle at Brotli's best quality (~45 s, too slow for a worker's start) into
#    /app/.asset-cache, where every worker reads it (app/web/assets.py); read-only for the user.
RUN python -m app.web.assets

# 5. The presets' stationary points, which every worker needs before it takes traffic (its
#    lifespan reads them; computing them takes ~0.5 s, seconds on a busy machine), into
#    /app/.descent-cache (app/core/surfaces/precomputed.py); read-only for the user.
RUN python -c "from app.core.surfaces import warm_presets; warm_presets()"

USER descent

EXPOSE 8000

# python:3.11-slim has no curl: ask /healthz with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

# `python -m app` runs uvicorn on HOST:PORT with WEB_CONCURRENCY worker processes.
CMD ["python", "-m", "app"]
