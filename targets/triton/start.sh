#!/bin/sh
# One Triton server member (targets/triton/stack.yaml): its own model repository in its data
# folder -- config.pbtxt rendered by the platform, the version folders linked to the ones
# `python -m targets.triton.repository` built -- then tritonserver in the foreground.
# LD_LIBRARY_PATH: the harness's libpython first, else the pyenv Python loads Debian's and fails
# with an RLock AttributeError (../shared/FACTS.md).
set -eu
mkdir -p "$DATA/models/$MODEL" "$CONTROL"
rm -f "$CONTROL/stall"  # a stall left by a crash ends with the process that had it
for version in "$VERSIONS"/*/; do
    ln -sfn "${version%/}" "$DATA/models/$MODEL/$(basename "$version")"
done
LIBDIR=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
export LD_LIBRARY_PATH="$LIBDIR:$SITE/nvidia_pytriton.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$SITE/pytriton/tritonserver/bin/tritonserver" \
    --model-repository "$DATA/models" --model-control-mode explicit --load-model "$MODEL" \
    --backend-directory "$SITE/pytriton/tritonserver/backends" \
    --http-address "$ADDRESS" --http-port "$HTTP_PORT" \
    --grpc-address "$ADDRESS" --grpc-port "$GRPC_PORT" \
    --metrics-address "$ADDRESS" --metrics-port "$METRICS_PORT" --metrics-interval-ms 1000 \
    --metrics-config summary_latencies=true \
    --exit-timeout-secs 5 --log-verbose 0
