"""The fraud model as Triton serves it: a Python-backend model, one file for every version.

Runs inside Triton's Python backend stub, in the model's own environment (``.venv-triton``,
numpy < 2: with numpy 2 the backend reads inputs as zeros without a word, ../shared/FACTS.md),
never in the harness's. Each version's ``weights.npz`` (written by
``targets.triton.repository``) says what it computes:

- ``logistic``: log1p, standard scaling, a logistic regression: the tabular stack's version 1,
  coefficient for coefficient (the two stacks score the same input alike);
- ``mlp``: log1p, standard scaling, two ReLU layers, a sigmoid: version 2.

A version without ``weights.npz`` fails to load: the broken release a fault deploys.

Input ``features`` (FP32, [batch, 7], the tabular stack's feature order), output
``fraud_score`` (FP32, [batch, 1]). On a ``KIND_GPU`` instance the weights live on the GPU
(torch) and tensors cross by DLPack both ways; on ``KIND_CPU`` it is numpy throughout.

Control files in ``$GAMEDAY_TRITON_CONTROL`` (the member's own folder) let faults reach the
model from outside: while ``stall`` exists every execution waits (the server and its
``/v2/health/ready`` stay green: a lying health check).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

_STALL_POLL_S = 0.05


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        folder = os.path.join(args["model_repository"], args["model_version"])
        path = os.path.join(folder, "weights.npz")
        if not os.path.isfile(path):
            raise pb_utils.TritonModelException(
                f"version {args['model_version']}: no weights.npz in {folder} (a broken release)")
        with np.load(path) as weights:
            self.kind = str(weights["kind"])
            self.mean = weights["mean"].astype(np.float32)
            self.scale = weights["scale"].astype(np.float32)
            self.layers = [(weights[f"w{i}"].astype(np.float32),
                            weights[f"b{i}"].astype(np.float32))
                           for i in range(int(weights["layers"]))]
        self.control = os.environ.get("GAMEDAY_TRITON_CONTROL", "")
        self.gpu = args.get("model_instance_kind") == "GPU"
        if self.gpu:
            import torch

            self.torch = torch
            device = torch.device(f"cuda:{args.get('model_instance_device_id', '0')}")
            self.mean_t = torch.from_numpy(self.mean).to(device)
            self.scale_t = torch.from_numpy(self.scale).to(device)
            self.layers_t = [(torch.from_numpy(w).to(device), torch.from_numpy(b).to(device))
                             for w, b in self.layers]
        pb_utils.Logger.log_info(json.dumps({"model": args["model_name"],
                                             "version": args["model_version"],
                                             "kind": self.kind, "gpu": self.gpu}))

    def execute(self, requests: list[Any]) -> list[Any]:
        self._wait_while_stalled()
        inputs = [pb_utils.get_input_tensor_by_name(r, "features") for r in requests]
        if self.gpu:
            return self._execute_gpu(inputs)
        rows = [tensor.as_numpy().astype(np.float32, copy=False) for tensor in inputs]
        scores = score(np.concatenate(rows), self.mean, self.scale, self.layers)
        responses, first = [], 0
        for part in rows:
            out = scores[first:first + len(part)].reshape(-1, 1)
            first += len(part)
            responses.append(pb_utils.InferenceResponse(
                output_tensors=[pb_utils.Tensor("fraud_score", out)]))
        return responses

    def _execute_gpu(self, inputs: list[Any]) -> list[Any]:
        torch = self.torch
        rows = [torch.from_dlpack(tensor.to_dlpack()).to(self.mean_t.device) for tensor in inputs]
        x = (torch.log1p(torch.cat(rows)) - self.mean_t) / self.scale_t
        for index, (w, b) in enumerate(self.layers_t):
            x = x @ w + b
            if index < len(self.layers_t) - 1:
                x = torch.relu(x)
        scores = torch.sigmoid(x).reshape(-1, 1).contiguous()
        responses, first = [], 0
        for part in rows:
            out = scores[first:first + len(part)].contiguous()
            first += len(part)
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor.from_dlpack("fraud_score", torch.utils.dlpack.to_dlpack(out))]))
        return responses

    def _wait_while_stalled(self) -> None:
        if not self.control:
            return
        stall = os.path.join(self.control, "stall")
        while os.path.exists(stall):
            time.sleep(_STALL_POLL_S)

    def finalize(self) -> None:
        pb_utils.Logger.log_info("fraud model unloaded")


def score(rows: np.ndarray, mean: np.ndarray, scale: np.ndarray,
          layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Fraud scores in [0, 1], one per row: log1p, scale, the layers (ReLU between), sigmoid."""
    x = (np.log1p(rows) - mean) / scale
    for index, (w, b) in enumerate(layers):
        x = x @ w + b
        if index < len(layers) - 1:
            x = np.maximum(x, 0.0)
    scores: np.ndarray = (1.0 / (1.0 + np.exp(-x))).astype(np.float32).reshape(-1)
    return scores
