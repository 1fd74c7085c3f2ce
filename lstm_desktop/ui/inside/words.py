"""The words of the "Inside the LSTM" view: help per panel, tooltips that wrap, the one-line legend
of the heatmaps' colours, the summary line, and what the empty view says.

Why rich text: Qt shows a plain-text tooltip on one line, which ran off the screen for these
paragraphs; a rich-text tooltip in a fixed-width table wraps at that width.
"""

from __future__ import annotations

import html as _html

from lstm_desktop.core.data.words import DIGITS, Words

def help_texts(rows: int = 28, words: Words = DIGITS) -> dict[str, str]:
    """The help per panel for a model that reads `rows` time steps of `words`' samples: an 8x8
    digits model reads 8 rows, a temporal-order model 100 steps of a sequence, not 28 rows of a digit."""
    image = words.item == "image"
    row, rows_word = ("row", "rows") if image else ("step", "steps")
    thing = "digit" if words.kind == "digit" else words.item  # what a sample is: digit, image, sequence
    if image:
        reads = (f"<b>{thing.capitalize()}.</b> What the model reads: {rows} rows, one per time step, from the "
                 "top down (bright = ink). With attention, the orange tint shows the rows it pooled most.")
    else:
        reads = (f"<b>{thing.capitalize()}.</b> What the model reads: {rows} time steps, one per row, from "
                 "the top down; each column is one input (bright = on). With attention, the orange tint "
                 "shows the steps it pooled most.")
    return {
        "digit": reads,
        "attention": f"<b>Attention.</b> How much each {row}'s output counts in the model's summary "
                     "(the weights add up to 1). Only models with an attention layer have one.",
        "readout": f"<b>{row.capitalize()}-by-{row} readout.</b> {row.capitalize()} t shows the class "
                   f"probabilities the model would give if the {words.item} ended after {row} t: the whole model "
                   f"(every layer, both directions, attention over the {rows_word} seen so far) is run on "
                   f"{rows_word} 1..t only. The dot marks the top class; the dashed line is where it stops "
                   f"changing. For a one-way LSTM this is simply the classifier applied to h after {row} t; "
                   f"for a bidirectional one the backward direction then starts at {row} t, so {rows_word} "
                   f"{'below' if image else 'after'} t never leak in.",
        "occlusion": f"<b>{row.capitalize()} blanked (occlusion).</b> Each bar: how the predicted class's probability changes "
                     f"when that single {row} is blanked (set to background). Red bars: the {row} "
                     "supported the prediction; blue bars: it argued against it.",
        "gates": "<b>Gates</b> (0 = closed, 1 = open), one row per time step, one column per "
                 "hidden unit. Input gate i: how much new content is written; forget gate f: how "
                 "much of the old cell is kept; output gate o: how much of the cell is shown as h.",
        "states": f"<b>States.</b> Candidate g: the new content proposed at this {row} (-1..1). "
                  "Cell c = f*c + i*g: the long-term memory, not bounded (its colour scale follows "
                  "its large values; the largest 1% show in the end colours). Hidden h = o*tanh(c): "
                  "what this layer passes on and the classifier reads. Blue is negative, red positive.",
        "selector": "<b>Layer / direction.</b> Stacked models have one set of gates per layer; "
                    f"bidirectional ones also read the {rows_word} " + ("bottom-up" if image else "last to first")
                    + f" (backward), whose {row} t shows the values when that direction read {row} t.",
        "order": "<b>Unit order.</b> The columns of the six heatmaps are the hidden units, in the same "
                 f"order in all six. Sorted by the {row} where each unit's h changes most, units that "
                 f"react to the same part of the {thing} sit side by side, so the structure shows as a "
                 "diagonal; 'by number' shows them as the model stores them.",
    }


HELP = help_texts()  # a 28-row MNIST model's, until a model says otherwise

HELP_ORDER = ("digit", "readout", "attention", "occlusion", "selector", "order", "gates", "states")

TOOLTIP_WIDTH = 380  # pixels: about 60 characters a line


def tooltip(html: str, width: int = TOOLTIP_WIDTH) -> str:
    """Rich text that Qt wraps at `width` pixels when it shows it as a tooltip."""
    return f"<table width='{width}'><tr><td>{html}</td></tr></table>"


def swatch_html(color: str) -> str:
    return (f"<span style='background-color:{color}; color:{color};'>&nbsp;&nbsp;&nbsp;&nbsp;</span>")


def legend_html(low: str, mid: str, high: str, sorted_units: bool) -> str:
    """The heatmaps in one line: what the three colours mean, and what rows and columns are."""
    columns = "hidden units, sorted by the row where h changes most" if sorted_units else \
        "hidden units, by number"
    return (f"{swatch_html(low)} closed (0) / negative &nbsp; {swatch_html(mid)} half / zero &nbsp; "
            f"{swatch_html(high)} open (1) / positive &nbsp;·&nbsp; rows: time steps, top to bottom "
            f"&nbsp;·&nbsp; columns: {columns}")


NO_MODEL = "No model to look into yet: train one, or open a saved model."
NO_INPUT = ("Draw a digit on the pad, or pick a test image in the confusion matrix, to see what the "
            "LSTM does with it.")


def empty_summary(message: str = "") -> str:
    """The summary line of an empty view, with the reason when there is one."""
    return f"<b>Inside the LSTM</b> — {message}" if message else "<b>Inside the LSTM</b>"


def prediction_summary(predicted: int, probability: float, decision_row: int, rows: int, label: str = "",
                       note: str = "", model: str = "") -> str:
    """The summary line of an explanation: the prediction, where the readout settles, which input
    (label, then note) and which model it shows."""
    decided = (f"settles on it at row {decision_row + 1} of {rows}" if decision_row < rows
               else "the readout never settles")
    source = f" — {label}" if label else ""
    by = f" — model: {_html.escape(model, quote=False)}" if model else ""
    return (f"<b>Prediction: {predicted}</b> ({probability:.0%}); the row-by-row "
            f"readout {decided}{source}{note}{by}")
