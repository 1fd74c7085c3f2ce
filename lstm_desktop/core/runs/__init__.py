"""Every run kept: the evented `Runs` model the CLI, torchrun and the window share, the SQLite run store
with its per-run folders and repairs, the recorder that turns events into runs, and comparing runs as
data."""
