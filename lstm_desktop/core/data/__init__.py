"""What the models learn from: datasets by name, read once as tensors, and the augmentations and synthetic
handwriting mixed into them. Add a new data source here (a module per source) and name it in `catalog`."""
