"""One training run: its settings and validated config, the loop and the events it emits, stop/pause, the
optimiser, metrics and evaluation, devices, torchrun, and the command that reproduces a run."""
