"""The shape of the code, checked: no import cycles (function-level imports included), no module over
400 lines, and the core imports nothing above it (no ui, no cli, no Qt)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lstm_desktop"
MAX_LINES = 400


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every lstm_desktop module that `path` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):  # `if TYPE_CHECKING:` imports count too: the graph must stay simple
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rsplit(".", 1)[0] if "." in target else ""
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) - _parents(name) for name, path in modules.items()}


def _parents(name: str) -> set[str]:
    """A module's own packages: importing lstm_desktop.core.x runs lstm_desktop.core's __init__."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycles():
    edges = graph()
    assert len(edges) > 40
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in all_modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_core_imports_nothing_above_it():
    edges = graph()
    bad = {name: sorted(t for t in targets if not t.startswith("lstm_desktop.core") and t != "lstm_desktop")
           for name, targets in edges.items() if name.startswith("lstm_desktop.core")}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"core modules importing ui/cli: {bad}"
    for name, path in all_modules().items():
        if name.startswith("lstm_desktop.core"):
            text = path.read_text(encoding="utf-8")
            assert "PySide6" not in text and "pyqtgraph" not in text, f"{name} mentions Qt"


def test_the_core_is_sub_packages_that_say_what_they_hold():
    """A new data source, step or store module has one obvious home: `core/` holds named sub-packages, each
    with a docstring, and no flat modules but the errors every part raises."""
    core = Path(__import__("lstm_desktop.core", fromlist=["x"]).__file__).parent
    packages = [p for p in core.iterdir() if (p / "__init__.py").is_file()]
    assert len(packages) >= 4
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 12, f"{package.name} has no docstring that says what it holds"
    flat = sorted(p.name for p in core.glob("*.py"))
    assert flat == ["__init__.py", "errors.py"], f"flat modules left in core/: {flat}"
# ---- the window's parts take what they use, never the window (issue 27, step 4) ----------------
WINDOW_MODULES = {"main_window", "window_layout", "app"}  # the window itself, its layout, the entry point
WINDOW_TYPES = {"MainWindow", "QMainWindow"}
WINDOW_NAMES = {"window", "w"}


def _annotation_names(node: ast.AST | None) -> set[str]:
    """Every name an annotation mentions (`QMainWindow`, `"MainWindow"`, `x.MainWindow | None`)."""
    if node is None:
        return set()
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            try:
                names |= _annotation_names(ast.parse(sub.value, mode="eval"))
            except SyntaxError:
                pass
    return names


def window_uses(source: str) -> list[str]:
    """Where a module takes, keeps or finds the main window: a parameter typed or named as the window,
    an import of a window type, an attribute `self.w` / `self.window` assigned, or `widget.window()`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is None:
                    continue
                if arg.arg in WINDOW_NAMES or _annotation_names(arg.annotation) & WINDOW_TYPES:
                    found.append(f"line {arg.lineno}: parameter {arg.arg!r}")
        elif isinstance(node, ast.ImportFrom) and {a.name for a in node.names} & WINDOW_TYPES:
            found.append(f"line {node.lineno}: imports {sorted({a.name for a in node.names} & WINDOW_TYPES)}")
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in WINDOW_NAMES:
            found.append(f"line {node.lineno}: keeps self.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "window" \
                and not node.args:
            found.append(f"line {node.lineno}: finds the window with .window()")
    return found


def test_the_window_check_finds_a_part_that_takes_the_window():
    old_style = ("from PySide6.QtWidgets import QMainWindow\n"
                 "class Part:\n"
                 "    def __init__(self, window: QMainWindow) -> None:\n"
                 "        self.w = window\n"
                 "def helper(w): return w.runs\n"
                 "def typed(parent: 'MainWindow | None'): pass\n"
                 "def found(widget): return widget.window().runs\n")
    assert len(window_uses(old_style)) == 6
    assert window_uses("def part(runs: 'Runs', parent: 'QWidget | None' = None): pass\n") == []


def test_no_window_part_takes_the_window():
    ui = PACKAGE / "ui"
    bad = {str(path.relative_to(ui)): uses for path in sorted(ui.rglob("*.py"))
           if path.stem not in WINDOW_MODULES or path.parent != ui
           if (uses := window_uses(path.read_text(encoding="utf-8")))}
    assert not bad, f"window parts that take or keep the main window: {bad}"


# ---- "Inside the LSTM": the view composes its panels; no panel knows the view (issue 27, step 4) ----
INSIDE = PACKAGE / "ui" / "inside"
UPWARD_CALLS = {"parent", "parentWidget", "window"}


def foreign_writes(source: str) -> list[str]:
    """Where a module sets an attribute on an object other than `self` (`view.digit_image = ...`,
    `setattr(view, ...)`): how the old build functions filled the view with their widgets."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
            found.append(f"line {node.lineno}: sets {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            found.append(f"line {node.lineno}: calls {node.func.id}")
    return found


def view_uses(source: str) -> list[str]:
    """Where a panel takes the view (a parameter named `view`) or climbs to it (`.parent()`, `.window()`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            found += [f"line {arg.lineno}: parameter 'view'" for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]
                      if arg.arg == "view"]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in UPWARD_CALLS:
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


def test_the_inside_checks_find_the_old_style():
    old_style = ("def build_top(view):\n"
                 "    view.digit_plot = make()\n"
                 "    setattr(view, '_help_chosen', None)\n"
                 "    return view.parent()\n"
                 "class Panel:\n"
                 "    def __init__(self) -> None:\n"
                 "        self.plot = make()\n")
    assert len(foreign_writes(old_style)) == 2
    assert len(view_uses(old_style)) == 2
    assert foreign_writes("class P:\n    def f(self):\n        self.a = 1\n") == []


def test_inside_panels_own_their_widgets_and_never_reach_the_view():
    modules = {path.stem: path.read_text(encoding="utf-8") for path in sorted(INSIDE.glob("*.py"))}
    assert {"view", "digit_panel", "gates_panel", "words", "hover"} <= set(modules)
    bad = {name: uses for name, source in modules.items() if (uses := foreign_writes(source))}
    assert not bad, f"modules that set attributes on another object: {bad}"
    bad = {name: uses for name, source in modules.items() if name != "view" if (uses := view_uses(source))}
    assert not bad, f"panels that take or climb to the view: {bad}"
    edges = graph()
    view = "lstm_desktop.ui.inside.view"
    importers = sorted(n for n, targets in edges.items() if view in targets and n.startswith("lstm_desktop.ui.inside"))
    assert importers == [], f"modules of the inside package that import the view: {importers}"


def test_the_wheel_lists_every_package():
    """pyproject.toml names its packages one by one: a package missing there is missing from an
    installed app (an editable checkout may still find it), and a name that is not a package breaks the build."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "lstm_desktop").rglob("__init__.py")}
    assert found - {"lstm_desktop.resources"} == listed - {"lstm_desktop.resources"}, (found ^ listed)
