# The tabular stack's feature store (components `features` and `materializer` of
# targets/tabular/stack.yaml): Feast's feature server and the region's materializer, one image
# from Feast's own requirements (targets/tabular/feast-requirements.txt: Feast pins pandas and
# prometheus_client below the service's, so it is never the service's image):
#
#   docker build -f clusters/docker/tabular-features.Dockerfile -t gameday/tabular-features:dev .
#   kind load docker-image gameday/tabular-features:dev --name region-a   # and region-b
#
# No data in the image: each region builds its Feast repo in its own volume at first start
# (python -m targets.tabular.featurestore.build), so the repo's absolute paths are the pod's.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FEAST_USAGE=False \
    PYTHONPATH=/opt/gameday

COPY targets/tabular/feast-requirements.txt /tmp/feast-requirements.txt
# uid 10001, as the service's image: above any system user of the base image or the node.
# Its home is /tmp: the pods mount a writable emptyDir there and keep the root filesystem
# read-only (Feast and dask write caches under ~ and the temp dir).
RUN pip install -r /tmp/feast-requirements.txt \
    && rm /tmp/feast-requirements.txt \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin gameday

WORKDIR /opt/gameday
# targets.tabular.featurestore and what it imports (the card generator, the feature names)
COPY targets/__init__.py targets/
COPY targets/tabular/ targets/tabular/

USER 10001:10001
EXPOSE 18150 18160
# the manifests give each container its own command (feast serve, the materializer)
CMD ["feast", "version"]
