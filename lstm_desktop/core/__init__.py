"""The engine, with no Qt: data, drawing, models, training, steps, runs and files, one sub-package each
(see each `__init__`); `errors` holds the messages every part raises. The window and the CLI both use it."""
