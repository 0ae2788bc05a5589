# CDS Hooks service (package cds_service, console script cds-service).
#
#   docker build -t oncology-pgx-cds .
#   docker run --rm -p 127.0.0.1:8080:8080 oncology-pgx-cds
#
# With podman, build with `--format docker`: the OCI image format has no HEALTHCHECK.
#
# Two stages: durable-rules 2.0.28 is published as an sdist only, and its C extension needs gcc
# and the Python headers. The builder compiles wheels for the project and every dependency; the
# runtime stage installs those wheels into a virtualenv and carries no compiler.

ARG PYTHON_IMAGE=python:3.12-slim

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

# Package index access, for this stage only and never stored in any image layer: the builder
# needs only PyPI and CA certificates that trust the way to it. For a mirror, a private index or
# an extra CA, pass a pip.conf as a build secret; without one, pip uses PyPI:
#   docker build --secret id=pip.conf,src=ci-pip.conf -t oncology-pgx-cds .
# (pip ignores PIP_CONFIG_FILE when the secret is absent.)
ENV PIP_CONFIG_FILE=/run/secrets/pip.conf \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180

# A current pip in a throwaway venv: durable-rules has only a setup.py, and older pips (such as a
# distro's) try the legacy `setup.py bdist_wheel` path, which fails without `wheel` installed.
RUN --mount=type=secret,id=pip.conf \
    python -m venv /opt/build-venv \
    && /opt/build-venv/bin/pip install --upgrade pip
ENV PATH=/opt/build-venv/bin:$PATH

# The dependencies are pinned by constraints.txt, the versions the test suite runs with.
WORKDIR /src
COPY . .
RUN --mount=type=secret,id=pip.conf \
    pip wheel --use-pep517 --constraint constraints.txt --wheel-dir /wheels . \
    && ls -l /wheels

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    CDS_RULES_DIR=/app/rules

# Install from the builder's wheels only (--no-index: nothing is fetched, nothing is compiled).
# The wheels come in by COPY rather than a RUN --mount=type=bind,from=builder: podman/buildah
# neither mounts a cached stage reliably nor re-runs the step when that stage changes. Their
# layer costs about 7 MB. pip itself (and setuptools, where the venv has it) is removed
# afterwards: the service does not need them.
COPY --from=builder /wheels /tmp/wheels
RUN python -m venv /opt/venv \
    && pip install --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /tmp/wheels oncology-pgx-cds \
    && pip uninstall --yes --disable-pip-version-check pip setuptools \
    && rm -rf /tmp/wheels \
    && groupadd --gid 10001 cds \
    && useradd --uid 10001 --gid cds --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin cds \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/cds

WORKDIR /app
# The service reads its rules from CDS_RULES_DIR at start-up. Owned by root: the service only
# reads them. Rule-file examples may name fixture Bundles by a path relative to the rule file
# (../../fixtures/fhir/bundles/...); the rule set checks they exist, so they come along.
COPY rules/ /app/rules/
COPY fixtures/fhir/bundles/ /app/fixtures/fhir/bundles/

# The store (SQLite, and the patient-hash key unless CDS_PATIENT_HASH_KEY is set) is kept here:
# mount a volume to keep it across containers, or set CDS_DATABASE_URL for PostgreSQL.
ENV CDS_DATA_DIR=/var/lib/cds
VOLUME /var/lib/cds

USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["cds-service"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
