"""The tabular stack's feature store: a real Feast repo per region (``repo``), its data
(``cards``), the build that applies and first materialises it (``build``), the loop that keeps
it fresh (``materializer``) and the service's online lookup (``lookup``).

Only ``repo``, ``cards`` and ``lookup`` are imported by the service; the others run from the
Feast venv (``.venv-feast``: Feast pins pandas and prometheus_client below the harness's).
"""
