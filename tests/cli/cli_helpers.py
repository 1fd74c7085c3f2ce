"""What the CLI test modules share: the CLI run in-process as `lstm-desktop` runs it."""

from __future__ import annotations

from lstm_desktop.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `lstm-desktop ARGV`, minus the process start."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors exit from inside parse_args
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
