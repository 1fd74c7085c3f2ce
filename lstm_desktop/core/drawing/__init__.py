"""From a pen or an image file to an answer: strokes and their rasteriser, MNIST's preprocessing recipe,
telling digits from scribbles, classifying, and adapting a model to one person's handwriting."""
