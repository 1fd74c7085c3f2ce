"""How one optimiser step runs on this hardware: the torch steps, the C kernel (`native/`), the CUDA graph,
and the one place that chooses between them by measuring."""
