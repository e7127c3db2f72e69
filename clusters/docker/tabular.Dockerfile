# The tabular stack's fraud-scoring service (targets/tabular), as the kind platform runs it:
#
#   make setup        # trains the model and fills artifacts/ first
#   docker build -f clusters/docker/tabular.Dockerfile --build-arg CHECKOUT="$PWD" \
#       -t gameday/tabular:dev .
#   kind load docker-image gameday/tabular:dev --name region-a   # and region-b
#
# The build context is the repository root (.dockerignore leaves out .git, the venvs, runs).
FROM python:3.11.11-slim-bookworm

# The MLflow registry (artifacts/mlflow/mlflow.db) records each model version's artifacts by
# absolute path, the checkout `make setup` ran in: the model home goes to that same path in the
# image, so the registry resolves without being rewritten. Pass --build-arg CHECKOUT="$PWD".
ARG CHECKOUT=/opt/gameday

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    GAMEDAY_MODEL_HOME=${CHECKOUT}/artifacts \
    MLFLOW_TRACKING_URI=sqlite:///${CHECKOUT}/artifacts/mlflow/mlflow.db \
    GAMEDAY_MODEL_URI=models:/fraud@champion

# Only what the service imports (targets.tabular.app and the model loader), pinned to the
# versions the harness's tests ran it with; not the harness (Locust, Chaos Toolkit, ...).
# The user: uid 10001, above any system user of the base image or the node; a home of its own
# for what the libraries cache under ~.
RUN pip install \
        fastapi==0.165.0 starlette==1.10.0 uvicorn==0.55.0 pydantic==2.14.4 httpx==0.29.0 \
        numpy==2.4.6 pandas==3.1.1 pyarrow==25.0.1 scipy==1.17.1 scikit-learn==1.9.1 \
        threadpoolctl==3.8.0 skops==0.16.0 mlflow==3.17.2 prometheus-client==0.26.0 \
        psutil==7.2.2 \
    && useradd --uid 10001 --user-group --create-home --home-dir /home/gameday \
        --shell /usr/sbin/nologin gameday

WORKDIR ${CHECKOUT}
COPY targets/__init__.py targets/served_by.py targets/
COPY targets/tabular/ targets/tabular/
# The model home: the registry, its artifacts, the loose models (the model-broken fault's
# incompatible one, the shadow set). The service's MLflow client writes the registry's SQLite
# journal and downloads artifacts to temp dirs: the model home belongs to the service's user.
COPY --chown=10001:10001 artifacts/mlflow/ artifacts/mlflow/
COPY --chown=10001:10001 artifacts/models/ artifacts/models/
# Fail the build, not the pod's readiness, when the registry's paths miss: the build arg was
# not the checkout that `make setup` ran in.
RUN python -c 'import os, sqlite3, sys; \
rows = sqlite3.connect(os.environ["GAMEDAY_MODEL_HOME"] + "/mlflow/mlflow.db").execute( \
    "SELECT name, version, storage_location FROM model_versions").fetchall(); \
gone = [r for r in rows if not os.path.isdir(r[2].removeprefix("file://"))]; \
sys.exit(f"model versions {gone} are not in the image: build with --build-arg " \
         "CHECKOUT=<the checkout make setup ran in>" if gone else None)'

USER 10001:10001
EXPOSE 18100
# 0.0.0.0 is the pod's own network namespace: the kubelet's probes and the Service reach the
# pod IP; nothing is published on the host but the kind node ports on 127.0.0.1
# GAMEDAY_REGION and GAMEDAY_REPLICA come from the pod (the overlay, the downward API)
CMD ["python", "-m", "uvicorn", "targets.tabular.app:app", "--host", "0.0.0.0", \
     "--port", "18100", "--no-access-log", "--log-level", "warning"]
