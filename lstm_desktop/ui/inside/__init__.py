"""The "Inside the LSTM" view, one module per responsibility.

`view.InsideView` composes the panels and tells them what to show; each panel is a class that builds,
owns and draws its own widgets and plot items and knows nothing of the view: `digit_panel` (the
input, with the attention tint), `attention_panel`, `readout_panel`, `occlusion_panel` (the four
row-aligned plots), `gates_panel` (the six gate and state heatmaps and their selectors) and
`help_panel`. `plots` holds the plot building blocks they share, `words` every sentence the view
shows, `hover` the text under the mouse. The computing is elsewhere: `ui.explain_controller` picks
the model and `ui.inference_worker` explains off the GUI thread.
"""
