"""What a dataset feeds the model (steps, features, classes) and the model's size, without data.

The form shows the parameter count as settings change, before any data is loaded: it is computed
by building the real model on PyTorch's "meta" device (no memory, no arithmetic), so the figure
can never drift from the model code.
"""

from __future__ import annotations

from lstm_desktop.core.training.config import TrainConfig

TEMPORAL_ORDER_SYMBOLS = 8  # a, b, c, d, X, Y, B(egin), E(nd): one-hot inputs
TEMPORAL_ORDER_CLASSES = 4  # XX, XY, YX, YY


def input_shape(config: TrainConfig) -> tuple[int, int, int]:
    """(steps, features per step, classes) of config's dataset."""
    if config.dataset == "digits":
        return 8, 8, 10
    if config.dataset == "temporal-order":
        return config.seq_len, TEMPORAL_ORDER_SYMBOLS, TEMPORAL_ORDER_CLASSES
    if config.dataset == "pixel-mnist":
        return 784, 1, 10
    return 28, 28, 10


def parameter_count(config: TrainConfig) -> int:
    """The number of parameters of the model this config trains."""
    import torch

    from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec

    steps, features, classes = input_shape(config)
    spec = ModelSpec(input_size=features, seq_len=steps, hidden=config.hidden, layers=config.layers,
                     bidirectional=config.bidirectional, attention=config.attention, dropout=config.dropout,
                     num_classes=classes, cell=config.cell)
    with torch.device("meta"):
        model = LSTMClassifier(spec)
    return sum(p.numel() for p in model.parameters())
