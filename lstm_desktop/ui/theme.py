"""Colours for plots and painted widgets, taken from the Qt palette, so that light and dark themes
both read well.

Why a module of its own: pyqtgraph and QPainter code do not follow the palette by themselves (a
PlotWidget stays white under Adwaita-dark). Every plot and painted widget asks `theme_for()` for its
colours when it is built and again when its palette changes (`QEvent.PaletteChange`, which Qt sends
to every widget when the application palette or the system colour scheme changes). `ThemeWatcher`
is the application-wide part: it follows the system colour scheme where the style does not (Fusion
on some desktops), keeps pyqtgraph's defaults in step, and re-themes objects registered with it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from superqt.utils import qdebounced

# Okabe-Ito / Tableau colours for a light background, and lighter relatives for a dark one: the
# same hue means the same series in both themes.
LIGHT_DIGITS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
DARK_DIGITS = ("#5fa8e8", "#ffa04d", "#5cc45c", "#ff6b6b", "#bb93e6",
               "#c9937f", "#f39ad6", "#b4b4b4", "#d8d84f", "#3fd4e8")
THEME_CHOICES = (("system", "&System"), ("light", "&Light"), ("dark", "&Dark"))  # View › Theme
LIGHT_RUNS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
              "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
DARK_RUNS = ("#5fa8e8", "#ff6b6b", "#5cc45c", "#bb93e6", "#ffa04d",
             "#3fd4e8", "#c9937f", "#f39ad6", "#b4b4b4", "#d8d84f")


def mix(a: QColor | str, b: QColor | str, t: float) -> QColor:
    """The colour a fraction t of the way from a to b (opaque: blending costs paint time)."""
    ca, cb = QColor(a), QColor(b)
    return QColor(round(ca.red() + (cb.red() - ca.red()) * t),
                  round(ca.green() + (cb.green() - ca.green()) * t),
                  round(ca.blue() + (cb.blue() - ca.blue()) * t))


def luminance(color: QColor | str) -> float:
    """Relative luminance (WCAG), 0 black .. 1 white."""
    def channel(v: int) -> float:
        c = v / 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    c = QColor(color)
    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast(a: QColor | str, b: QColor | str) -> float:
    """WCAG contrast ratio of two colours (1 .. 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the palette's window colour is dark (the application palette by default)."""
    pal = palette if palette is not None else QGuiApplication.palette()
    return luminance(pal.color(QPalette.ColorRole.Window)) < 0.2


@dataclass(frozen=True)
class Theme:
    """Every colour a plot or painted widget needs, as '#rrggbb' strings (pyqtgraph takes them)."""

    dark: bool
    background: str    # plot area and painted canvases (the palette's Base)
    text: str          # titles, legend text
    axis: str          # axis lines and tick labels
    muted: str         # hints, secondary text
    grid_alpha: float  # pyqtgraph's showGrid alpha
    crosshair: str
    track: str         # the empty part of a bar
    border: str        # cell borders, frames
    train: str
    val: str
    ema: str
    raw: str           # the raw batch loss, drawn under the smoothed one
    digits: tuple[str, ...]
    runs: tuple[str, ...]
    highlight: str

    @property
    def title_style(self) -> dict:
        """Keyword arguments for PlotItem.setTitle."""
        return {"color": self.text, "size": "9pt"}


def theme_for(palette: QPalette | None = None) -> Theme:
    """The theme of a palette (the application palette by default)."""
    pal = palette if palette is not None else QGuiApplication.palette()
    base = pal.color(QPalette.ColorRole.Base)
    text = pal.color(QPalette.ColorRole.Text)
    dark = is_dark(pal)
    bg = base.name()
    return Theme(
        dark=dark,
        background=bg,
        text=mix(text, base, 0.1).name(),
        axis=mix(text, base, 0.3).name(),
        muted=mix(text, base, 0.4).name(),
        grid_alpha=0.22 if dark else 0.15,
        crosshair=mix(text, base, 0.55).name(),
        track=mix(text, base, 0.86 if dark else 0.9).name(),
        border=mix(text, base, 0.8).name(),
        train="#5fa8e8" if dark else "#1f77b4",
        val="#ff6b6b" if dark else "#d62728",
        ema="#8cc4ff" if dark else "#1f4e9c",
        raw=mix("#5fa8e8", bg, 0.6).name() if dark else "#b9d3ea",
        digits=DARK_DIGITS if dark else LIGHT_DIGITS,
        runs=DARK_RUNS if dark else LIGHT_RUNS,
        highlight=pal.color(QPalette.ColorRole.Highlight).name(),
    )


PRIMARY, PRIMARY_HOVER = "#1a73e8", "#1765cc"  # the one primary action's blue (Train), light or dark


def primary_button_sheet(name: str, palette: QPalette | None = None) -> str:
    """The style sheet of a primary action's button (QPushButton#name): white on blue while it can be
    pressed; disabled, the palette's own disabled button colours with an outline, like every other
    greyed button (a paler blue still looked pressable on a dark background). Rebuild it when the
    palette changes."""
    pal = palette or QApplication.palette()
    off = QPalette.ColorGroup.Disabled
    back, text = pal.color(off, QPalette.ColorRole.Button), pal.color(off, QPalette.ColorRole.ButtonText)
    edge = mix(back, text, 0.45).name()
    return (f"QPushButton#{name} {{ background: {PRIMARY}; color: white; font-weight: bold;"
            f" border: 1px solid {PRIMARY}; border-radius: 4px; padding: 4px 18px; }}"
            f"QPushButton#{name}:disabled {{ background: {back.name()}; color: {text.name()};"
            f" border: 1px solid {edge}; }}"
            f"QPushButton#{name}:hover:!disabled {{ background: {PRIMARY_HOVER}; border-color: {PRIMARY_HOVER}; }}")


def style_plot(plot, theme: Theme, title: str | None = None) -> None:
    """Axis pens, tick text, axis labels, title and legend text of a pyqtgraph PlotItem.

    The axis label texts are kept; only their colour changes. Cheap enough to call on a palette
    change, never called per frame.
    """
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name) if name in plot.axes else None
        if axis is None:
            continue
        axis.setPen(theme.axis)
        axis.setTextPen(theme.axis)
        axis.setTickPen(theme.axis)
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits or None, color=theme.axis)
        if axis.grid is not False:
            axis.setGrid(int(255 * theme.grid_alpha))
    text = title if title is not None else (plot.titleLabel.text if plot.titleLabel.isVisible() else None)
    if text:
        plot.setTitle(text, **theme.title_style)
    legend = getattr(plot, "legend", None)
    if legend is not None:
        style_legend(legend, theme)


def style_legend(legend, theme: Theme) -> None:
    """A pyqtgraph LegendItem: text in the theme's colour on a translucent background."""
    legend.setLabelTextColor(theme.text)
    back = QColor(theme.background)
    back.setAlpha(200)
    legend.setBrush(back)
    legend.setPen(theme.border)
    for _, label in legend.items:
        label.setText(label.text, color=theme.text)


def style_symbols(curve, color: str, pen) -> None:
    """Symbol colours of a PlotDataItem, also on its scatter item: the legend draws its sample from
    the scatter's options, which PlotDataItem only passes on once the curve has data."""
    curve.setSymbolBrush(color)
    curve.setSymbolPen(pen)
    curve.scatter.setBrush(color, update=False)
    curve.scatter.setPen(pen, update=False)
    curve.scatter.setSize(curve.opts["symbolSize"], update=False)


def style_view(view, theme: Theme, title: str | None = None) -> None:
    """A PlotWidget (or any pyqtgraph GraphicsView): background, and its plot item when it has one."""
    view.setBackground(theme.background)
    plot_item = getattr(view, "getPlotItem", None)
    if plot_item is not None:
        style_plot(plot_item(), theme, title)


def set_pyqtgraph_defaults(theme: Theme) -> None:
    """New pyqtgraph items start in the theme's colours."""
    import pyqtgraph as pg

    pg.setConfigOptions(background=theme.background, foreground=theme.axis)


def dark_palette() -> QPalette:
    """A dark Fusion palette (what a dark desktop gives Qt): for tests, screenshots and `--dark`."""
    pal = QPalette()
    roles = QPalette.ColorRole
    colors = {
        roles.Window: "#2b2b2b", roles.WindowText: "#e6e6e6", roles.Base: "#1f1f1f",
        roles.AlternateBase: "#2a2a2a", roles.ToolTipBase: "#3a3a3a", roles.ToolTipText: "#f0f0f0",
        roles.PlaceholderText: "#9a9a9a", roles.Text: "#e6e6e6", roles.Button: "#353535",
        roles.ButtonText: "#e6e6e6", roles.BrightText: "#ff5555", roles.Light: "#4a4a4a",
        roles.Midlight: "#3e3e3e", roles.Mid: "#303030", roles.Dark: "#1a1a1a", roles.Shadow: "#000000",
        roles.Highlight: "#3d8fd6", roles.HighlightedText: "#ffffff", roles.Link: "#6cb4ff",
        roles.LinkVisited: "#b48cff",
    }
    for role, color in colors.items():
        pal.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        pal.setColor(disabled, role, QColor("#7a7a7a"))
    pal.setColor(disabled, roles.Base, QColor("#262626"))
    pal.setColor(disabled, roles.Button, QColor("#303030"))
    return pal


def light_palette() -> QPalette:
    """The Fusion style's own light palette."""
    from PySide6.QtWidgets import QStyleFactory

    style = QStyleFactory.create("Fusion")
    return style.standardPalette() if style is not None else QPalette()


def apply_dark_palette(app: QApplication | None = None) -> None:
    """Switch the application to the Fusion style with a dark palette (tests, screenshots).

    Qt delivers the palette change to widgets through posted events; they are handled here, so
    every widget shows the new theme when this returns.
    """
    _apply(app, dark_palette())


def apply_light_palette(app: QApplication | None = None) -> None:
    """Back to Fusion's light palette (delivered at once, like apply_dark_palette)."""
    _apply(app, light_palette())


def _apply(app: QApplication | None, palette: QPalette) -> None:
    app = app or QApplication.instance()
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(palette)
    app.processEvents()


class Themed(Protocol):
    def apply_theme(self, theme: Theme) -> None: ...


class _PaletteSentinel(QWidget):
    """A never-shown widget: Qt sends it PaletteChange whenever the application palette changes
    (the cheap alternative to an application-wide event filter, which would see every event)."""

    def __init__(self, callback: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName("themePaletteSentinel")
        self._callback = callback

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._callback()


class ThemeWatcher(QObject):
    """Emits `themeChanged(Theme)` once per palette or colour-scheme change, and re-themes the
    objects registered with `register` (weakly held).

    follow_scheme: when the system switches between light and dark but the style's palette does not
    follow (Fusion on X11 or Windows without a platform theme), switch the palette here.
    """

    themeChanged = Signal(object)

    def __init__(self, app: QApplication | None = None, follow_scheme: bool = True) -> None:
        super().__init__(app or QApplication.instance())
        self.setObjectName("themeWatcher")
        self._app = app or QApplication.instance()
        self._follow = follow_scheme
        self._targets: list[weakref.ref] = []
        self._own_palette = False  # True while this watcher set a dark palette of its own
        self._light = QPalette(self._app.palette())
        self._style = self._app.style().name()  # the system's style, for going back to System
        self.choice = "system"  # View › Theme: follow the system, or the user's light or dark
        self._changed = qdebounced(self._emit, 0, parent=self)  # one switch sends a burst of events
        self._sentinel = _PaletteSentinel(self._changed)
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(self._on_scheme)
        self.theme = theme_for()
        set_pyqtgraph_defaults(self.theme)
        if follow_scheme:
            self._on_scheme(hints.colorScheme())

    def stop(self) -> None:
        """Stop watching (tests; the application's watcher lives as long as the application)."""
        QGuiApplication.styleHints().colorSchemeChanged.disconnect(self._on_scheme)
        self._changed.cancel()
        self._sentinel.deleteLater()
        self._targets.clear()

    def register(self, target: Themed) -> None:
        """Call target.apply_theme(theme) now and after every change, while target lives."""
        self._targets.append(weakref.ref(target))
        target.apply_theme(self.theme)

    def set_choice(self, choice: str) -> None:
        """View › Theme: "light" or "dark" whatever the desktop says, or "system" (follow it again)."""
        choice = choice if choice in dict(THEME_CHOICES) else "system"
        if self.choice == "system" and not self._own_palette:
            self._light = QPalette(self._app.palette())  # the system's palette, to come back to
            self._style = self._app.style().name()
        self.choice = choice
        if choice in ("light", "dark"):
            self._own_palette = True
            _apply(self._app, dark_palette() if choice == "dark" else light_palette())
        else:
            self._own_palette = False
            if self._app.style().name() != self._style:
                self._app.setStyle(self._style)
            self._app.setPalette(self._light)
            self._on_scheme(QGuiApplication.styleHints().colorScheme())
            self._app.processEvents()
        self._changed()

    def _on_scheme(self, scheme: Qt.ColorScheme) -> None:
        if not self._follow or self.choice != "system":
            self._changed()
            return
        want_dark = scheme == Qt.ColorScheme.Dark
        if want_dark and not is_dark(self._app.palette()):
            self._light = QPalette(self._app.palette())
            self._own_palette = True
            self._app.setPalette(dark_palette())
        elif scheme == Qt.ColorScheme.Light and self._own_palette:
            self._own_palette = False
            self._app.setPalette(self._light)
        self._changed()

    def _emit(self) -> None:
        self.theme = theme_for()
        set_pyqtgraph_defaults(self.theme)
        alive = []
        for ref in self._targets:
            target = ref()
            if target is None:
                continue
            alive.append(ref)
            try:
                target.apply_theme(self.theme)
            except RuntimeError:  # its C++ object is gone
                continue
        self._targets = alive
        self.themeChanged.emit(self.theme)


_watcher: ThemeWatcher | None = None


def install_theme_watcher(app: QApplication | None = None, follow_scheme: bool = True) -> ThemeWatcher:
    """The application's ThemeWatcher, created on the first call (call it once at start-up)."""
    global _watcher
    if _watcher is None:
        _watcher = ThemeWatcher(app, follow_scheme)
    return _watcher


class FollowsPalette:
    """For a QWidget with `_theme` and `apply_theme(theme)`: restyles when its palette changes
    (a theme switch, or the desktop's), and only when the theme it gives differs."""

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)  # type: ignore[misc]
        if event.type() == QEvent.Type.PaletteChange:
            theme = theme_for(self.palette())  # type: ignore[attr-defined]
            if theme != self._theme:  # type: ignore[has-type]
                self.apply_theme(theme)  # type: ignore[attr-defined]
