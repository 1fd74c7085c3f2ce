"""Every dataset by name: the image sets (core/data/image_sets.py) and the generated long-lag tasks
(core/data/longlag.py). The one entry point training, evaluation and data-parallel runs use."""

from __future__ import annotations

from typing import Any, Callable

from lstm_desktop.core.data import image_sets as data
from lstm_desktop.core.data import longlag
from lstm_desktop.core.data.image_sets import Callback, DataBundle


def load_bundle(dataset: str, data_dir: str | None = None, val_size: int = 5000, seed: int = 0,
                download: bool = False, callback: Callback | None = None,
                should_stop: Callable[[], bool] | None = None, seq_len: int = 100,
                permute: bool = False) -> DataBundle:
    """The named dataset as tensors. seq_len: temporal-order's length; permute: pixel-mnist's."""
    if dataset in ("temporal-order", "pixel-mnist"):
        return longlag.longlag_bundle(dataset, data_dir=data_dir, val_size=val_size, seed=seed, seq_len=seq_len,
                                      permute=permute, download=download, callback=callback,
                                      should_stop=should_stop)
    return data.load_bundle(dataset, data_dir, val_size, seed, download, callback, should_stop)


def load_bundle_for(config, download: bool = False, callback: Callable[[Any], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> DataBundle:
    """The data a TrainConfig trains on (MNIST with its pen digits, when it asks for them).
    callback: receives the download's and the pen digits' progress events."""
    bundle = load_bundle(config.dataset, config.data_dir, config.val_size, config.seed, download=download,
                         callback=callback, should_stop=should_stop, seq_len=config.seq_len,
                         permute=config.permute)
    if config.dataset == "mnist" and config.pen_digits:
        from lstm_desktop.core.data.pen_digits import with_pen_digits

        bundle = with_pen_digits(bundle, config.pen_digits, config.seed, progress=callback, should_stop=should_stop)
    return bundle
