"""The networks and what can be read out of them: the LSTMClassifier family, checkpoints (one validated
file per model), ONNX export, and looking inside (gates, states, gradient flow)."""
