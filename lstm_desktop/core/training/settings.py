"""What a training setting is: its type, default, limits, unit and help, declared once.

`TrainConfig` (core/training/config.py) declares each of its fields with `setting(...)`; everything else is
derived from that one declaration: validation and its messages (`Setting.check`, `Setting.parse`),
the command line's flags and their `--help` (cli/train.py), the window's form fields and their
limits (ui/widgets/config_panel.py), "Copy command" (core/training/commands.py) and the saved config.
Numbers are parsed the way people type them (`1e-4`, `0.0001`, `3e-3`); nothing is clamped: a
value out of range is an error that says the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lstm_desktop.core.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One training setting. `name` and `kind` are filled in from the dataclass field."""

    default: Any
    label: str  # "Learning rate": the form's label and the message's subject
    help: str
    group: str  # the form's section: Data, Model, Training, Compute
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, what a person reads)
    unit: str = ""
    step: float = 1.0
    adaptive: bool = False  # arrow keys step by a tenth of the value's order of magnitude (rates)
    optional: bool = False  # None is a valid value (e.g. threads: torch's default)
    none_text: str = ""  # what None is called ("default")
    widget: str = ""  # the form field's objectName (kept stable for automation)
    exposed: bool = True  # in the CLI, the form and Copy command
    per_dataset: dict[str, Any] = field(default_factory=dict)  # defaults that depend on the dataset
    per_dataset_hi: dict[str, tuple[float, str]] = field(default_factory=dict)  # dataset: (largest, why)
    applies_to: tuple[str, ...] = ()  # datasets where the setting means something (empty: all)
    name: str = ""
    kind: type = object

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def subject(self) -> str:
        return self.label.lower() if not self.label.isupper() else self.label

    def default_for(self, dataset: str) -> Any:
        return self.per_dataset.get(dataset, self.default)

    def range_text(self) -> str:
        """'(0, 10]', '1 to 4096', 'one of a, b' (or '' when unbounded)."""
        if self.choices:
            return "one of " + ", ".join(v for v, _ in self.choices)
        if self.lo is None and self.hi is None:
            return ""
        if self.kind is int and not self.lo_open and not self.hi_open:
            lo = "" if self.lo is None else _number(self.lo)
            hi = "" if self.hi is None else _number(self.hi)
            return f"{lo} to {hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        lo = "-inf" if self.lo is None else _number(self.lo)
        hi = "inf" if self.hi is None else _number(self.hi)
        return f"{left}{lo}, {hi}{right}"

    def problem(self, value: Any) -> str | None:
        """Why value is not valid for this setting (one line), or None."""
        if value is None:
            return None if self.optional else f"{self.subject} must be set"
        if self.kind is bool:
            return None if isinstance(value, bool) else f"{self.subject} must be true or false, not {value!r}"
        if self.kind in (int, float):
            whole = self.kind is int
            ok_type = isinstance(value, int) if whole else isinstance(value, (int, float))
            if isinstance(value, bool) or not ok_type:
                what = "a whole number" if whole else "a number"
                return f"{self.subject} must be {what}, not {value!r}"
            if not whole and not math.isfinite(value):
                return f"{self.subject} must be a finite number, not {value!r}"
            lo_bad = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
            hi_bad = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
            if lo_bad or hi_bad:
                return f"{self.subject} must be {self._in_range()}, not {_number(value)}"
            return None
        if not isinstance(value, str):
            return f"{self.subject} must be text, not {value!r}"
        if self.choices and value not in {v for v, _ in self.choices}:
            return f"{self.subject} must be {self.range_text()}, not {value!r}"
        return None

    def problem_for(self, value: Any, dataset: str) -> str | None:
        """problem(), and a dataset's own limit (a validation set cannot be larger than the data)."""
        problem = self.problem(value)
        if problem or dataset not in self.per_dataset_hi or value is None:
            return problem
        hi, why = self.per_dataset_hi[dataset]
        return f"{self.subject} must be at most {_number(hi)} here ({why}), not {_number(value)}" \
            if value > hi else None

    def _in_range(self) -> str:
        text = self.range_text()
        return f"in {text}" if text.startswith(("(", "[")) else f"between {text.replace(' to ', ' and ')}" \
            if " to " in text else text

    def check(self, value: Any) -> None:
        problem = self.problem(value)
        if problem:
            raise ConfigError(problem, self.fix_hint())

    def fix_hint(self) -> str:
        rng = self.range_text()
        return f"Use {self.flag} with a value {rng}." if rng and not self.choices else ""

    def parse(self, text: str) -> Any:
        """Text as typed (CLI argument or form field) -> a value; ConfigError says what is wrong."""
        raw = text.strip()
        if self.optional and (raw == "" or raw.lower() in ("none", self.none_text.lower())):
            return None
        if self.kind is int:
            try:
                value: Any = int(raw.replace("_", ""))
            except ValueError:
                value = _whole_float(raw)
                if value is None:
                    raise ConfigError(f"{self.subject} must be a whole number, not {text!r}",
                                      self.fix_hint()) from None
        elif self.kind is float:
            try:
                value = float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
            except ValueError:
                raise ConfigError(f"{self.subject} must be a number (such as 0.001 or 1e-3), not {text!r}",
                                  self.fix_hint()) from None
        elif self.kind is bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                value = True
            elif lowered in ("0", "false", "no", "off"):
                value = False
            else:
                raise ConfigError(f"{self.subject} must be true or false, not {text!r}")
        else:
            value = raw
        self.check(value)
        return value

    def format(self, value: Any) -> str:
        """A value as the CLI and the form write it (exact for floats: repr)."""
        if value is None:
            return self.none_text
        if self.kind is float:
            return repr(float(value))
        return str(value)


def _number(x: float) -> str:
    """A bound or value as a person writes it: whole numbers in full (2147483647, not 2.14748e+09)."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def _whole_float(text: str) -> int | None:
    """'1e3' -> 1000 for whole-number settings; None when it is not a whole number (or absurd)."""
    try:
        f = float(text)
    except ValueError:
        return None
    if not math.isfinite(f) or f != int(f) or abs(f) > 2**62:
        return None
    return int(f)


def setting(default: Any, label: str, help: str, group: str, **kwargs: Any) -> Any:
    """A dataclass field declared as a Setting (see TrainConfig)."""
    from dataclasses import field as dc_field

    return dc_field(default=default, metadata={"setting": Setting(default, label, help, group, **kwargs)})


def settings_of(cls: type) -> tuple[Setting, ...]:
    """The Settings of a dataclass declared with `setting(...)`, in declaration order."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        s = f.metadata.get("setting")
        if s is None:
            continue
        kind = hints[f.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        base = args[0] if args else kind
        out.append(dataclasses.replace(s, name=f.name, kind=base))
    return tuple(out)
