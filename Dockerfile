# ActionDesk's container image. Build from the repository root:
#   docker build -t actiondesk .            (or: podman build / buildah bud)
# The default command serves on 0.0.0.0:8080; migrations are their own command:
#   docker run --rm -e DATABASE_URL=... actiondesk db upgrade
# PYTHON_IMAGE lets a build use a mirror or a digest-pinned base (python:3.11-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: a virtual environment with ActionDesk and its dependencies (wheels only: nothing is compiled).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ONLY_BINARY=:all: \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/actiondesk
COPY pyproject.toml README.md ./
COPY actiondesk ./actiondesk
# setuptools builds ActionDesk's own wheel; everything else arrives as a binary wheel (pip compiles the bytecode)
RUN /opt/actiondesk/bin/pip install --no-cache-dir --no-binary=actiondesk . \
    && /opt/actiondesk/bin/pip uninstall --yes setuptools pip

# Stage 2: the runtime. The same slim base, the virtual environment, a non-root user; no compiler, no pip.
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="ActionDesk" \
      org.opencontainers.image.description="A self-hostable ChatOps bot that turns the service desk into a system of action." \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 actiondesk \
    && useradd --system --uid 10001 --gid actiondesk --home-dir /var/lib/actiondesk --no-create-home \
       --shell /usr/sbin/nologin actiondesk \
    && install -d -o actiondesk -g actiondesk -m 0750 /var/lib/actiondesk \
    && python -m pip uninstall --yes --no-cache-dir pip setuptools wheel
COPY --from=build /opt/actiondesk /opt/actiondesk
ENV PATH=/opt/actiondesk/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ACTIONDESK_HOST=0.0.0.0 \
    ACTIONDESK_PORT=8080 \
    ACTIONDESK_LOG_FORMAT=json \
    DATABASE_URL=sqlite:////var/lib/actiondesk/actiondesk.db
WORKDIR /var/lib/actiondesk
VOLUME ["/var/lib/actiondesk"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["actiondesk", "healthcheck"]
ENTRYPOINT ["actiondesk"]
CMD ["serve", "--host", "0.0.0.0"]
