"""Helpers several core test modules share: a small synthetic training config and the model variants."""

from __future__ import annotations

from lstm_desktop.core.training.config import TrainConfig

# every architecture option and their combinations, as ModelSpec / TrainConfig keyword arguments
VARIANTS = {
    "plain": dict(),
    "bidirectional": dict(bidirectional=True),
    "stacked2-dropout": dict(layers=2, dropout=0.2),
    "stacked3-dropout": dict(layers=3, dropout=0.3),
    "attention": dict(attention=True),
    "bi+attention": dict(bidirectional=True, attention=True),
    "bi+stacked+attention": dict(bidirectional=True, layers=2, dropout=0.1, attention=True),
}


def cfg(**changes) -> TrainConfig:
    """One epoch of the synthetic task on a hidden-8 model, on the CPU: well under a second."""
    base = dict(dataset="synthetic", hidden=8, epochs=1, batch_size=32, device="cpu", lr=1e-2)
    return TrainConfig(**(base | changes))
