"""The offline pipeline: split, fit, evaluate, track in MLflow."""
