# The Triton stack's model versions (what `python -m targets.triton.repository` built into
# artifacts/triton/fraud: 1, 2 and the broken 3), as an image the triton-server pod's
# initContainer copies into its own model repository (an emptyDir beside tritonserver):
#
#   make setup        # builds artifacts/triton first
#   docker build -f clusters/docker/triton-models.Dockerfile -t gameday/triton-models:dev .
#   kind load docker-image gameday/triton-models:dev --name region-a   # and region-b
#
# Only files: the server itself is NVIDIA's image (layout.IMAGES["triton"]), whose Python
# backend runs model.py with the image's own Python and numpy (numpy < 2 in 24.08: with
# numpy 2 the backend reads inputs as zeros, silently; the pod checks it before it starts).
# config.pbtxt is not here: it comes from the manifests' ConfigMap.
FROM busybox:1.36.1

COPY --chown=1000:1000 artifacts/triton/fraud/ /repository/fraud/
# the server's user in the pod (uid 1000, the NGC image's triton-server)
USER 1000:1000
CMD ["cp", "-R", "/repository/fraud", "/models/"]
