# gameday/rag:dev: the rag stack's service on kind (targets/rag/app.py): chunking, retrieval
# over PostgreSQL + pgvector, streamed answers. It calls the region's embedder over HTTP, so
# it carries no torch.
# Build context: the repository root.

# The base corpus embedded at build time (what `make setup` does locally): a replica seeds
# the store from these vectors in seconds instead of embedding ~1,400 chunks at every
# stand-up. These first lines are embedder.Dockerfile's, word for word: one torch layer.
FROM python:3.11.10-slim-bookworm AS seed

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY targets/rag/embedder-requirements.txt /tmp/embedder-requirements.txt
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-cache-dir -r /tmp/embedder-requirements.txt

WORKDIR /opt/gameday
COPY gameday/__init__.py gameday/corpus.py gameday/
COPY targets/__init__.py targets/served_by.py targets/
COPY targets/rag/ targets/rag/
RUN HF_HUB_OFFLINE=1 python -m targets.rag.seed_vectors --out /opt/gameday/artifacts/rag

FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# the service's imports, at the versions the harness's own venv runs them; a named user, so
# libraries that look the user up (getpass, pwd) find one
RUN pip install --no-cache-dir \
      fastapi==0.165.0 starlette==1.10.0 uvicorn==0.55.0 pydantic==2.14.4 numpy==2.4.6 \
      httpx==0.29.0 "psycopg[binary]==3.3.9" psycopg-pool==3.3.3 prometheus-client==0.26.0 \
 && useradd --uid 10001 --user-group --no-log-init --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin gameday

WORKDIR /opt/gameday
# gameday.corpus: the base documents a replica seeds (pure Python, no harness dependencies)
COPY gameday/__init__.py gameday/corpus.py gameday/
COPY targets/__init__.py targets/served_by.py targets/
COPY targets/rag/ targets/rag/
COPY --from=seed /opt/gameday/artifacts/rag/ artifacts/rag/

# HOME in /tmp (an emptyDir on kind, the root filesystem is read-only there)
ENV HOME=/tmp \
    PYTHONPATH=/opt/gameday \
    RAG_SEED_VECTORS=/opt/gameday/artifacts/rag/base-fp32.npz
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "--factory", "targets.rag.app:create_app", "--host", "0.0.0.0", \
     "--port", "8000", "--no-access-log", "--log-level", "warning"]
