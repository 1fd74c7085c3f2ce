"""The theme-following both Results plot panels share: restyle on a palette change, redraw when seen."""

from __future__ import annotations

from lstm_desktop.ui.theme import FollowsPalette, Theme, style_view


class ThemedPlotMixin(FollowsPalette):
    """For a QWidget with `plot_widget`, `_theme`, `_stale` and `redraw()`: one home for how a
    comparison plot follows the theme (the runs' curves and the parallel coordinates)."""

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        style_view(self.plot_widget, theme)  # type: ignore[attr-defined]
        self._stale = True
        if self.isVisible():  # type: ignore[attr-defined]
            self.redraw()  # type: ignore[attr-defined]

