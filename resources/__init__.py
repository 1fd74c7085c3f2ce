"""Files shipped with the app (the default drawing-pad model, icons); installed as lstm_desktop.resources."""
