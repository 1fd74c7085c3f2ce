"""The engine: data, models, training, metrics, checkpoints, preprocessing. Imports no Qt."""
