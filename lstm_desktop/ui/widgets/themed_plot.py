"""The theme-following both Results plot panels share: restyle on a palette change, redraw when seen."""

from __future__ import annotations

from PySide6.QtCore import QEvent

from lstm_desktop.ui.theme import Theme, style_view, theme_for


class ThemedPlotMixin:
    """For a QWidget with `plot_widget`, `_theme`, `_stale` and `redraw()`: one home for how a
    comparison plot follows the theme (the runs' curves and the parallel coordinates)."""

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        style_view(self.plot_widget, theme)  # type: ignore[attr-defined]
        self._stale = True
        if self.isVisible():  # type: ignore[attr-defined]
            self.redraw()  # type: ignore[attr-defined]

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)  # type: ignore[misc]
        if event.type() == QEvent.Type.PaletteChange:
            theme = theme_for(self.palette())  # type: ignore[attr-defined]
            if theme != self._theme:
                self.apply_theme(theme)
