"""The tabular reference stack: a FastAPI fraud-scoring service over an MLflow-registered model."""
