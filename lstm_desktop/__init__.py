"""lstm-desktop: train, watch, explain and try LSTM digit classifiers offline."""

__version__ = "0.1.0"
