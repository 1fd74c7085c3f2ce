"""`python -m lstm_desktop` behaves like the `lstm-desktop` command (and works under torchrun)."""

from lstm_desktop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
