"""What a dataset's classes and samples are called, so results speak each dataset's own words:
MNIST has digits and test images; temporal order has four order classes (XX, XY, YX, YY) of test
sequences, and nothing to draw on the pad."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    kind: str      # "digit", "class": the per-class table's first column, the matrix's axes
    item: str      # "image", "sequence"
    names: tuple[str, ...] = ()  # class names by index; empty: the index is the name
    drawable: bool = True  # a drawing on the pad means something to its models

    @property
    def items(self) -> str:
        return f"{self.item}s"

    def name(self, label: int) -> str:
        return self.names[label] if 0 <= label < len(self.names) else str(label)


DIGITS = Words("digit", "image")


def words_for(dataset: str | None) -> Words:
    """The words of `dataset` (digits for MNIST-like and unknown datasets)."""
    if dataset == "temporal-order":
        from lstm_desktop.core.data.longlag import CLASS_NAMES

        return Words("class", "sequence", CLASS_NAMES, drawable=False)
    if dataset == "synthetic":
        return Words("class", "image", drawable=False)
    return DIGITS
