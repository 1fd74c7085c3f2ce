"""The long-lag lab's guided text: what the screen shows, tied to the notebook's equations."""

LESSON_HTML = """
<h2>Why LSTMs: the gradient through time</h2>
<p>A recurrent network reads a sequence one step at a time and keeps a state <i>h</i>. To learn
that a symbol at step 10 decides the class at step 100, the loss's gradient has to travel back
from step 100 to step 10. The <b>gradient flow</b> plot shows exactly that: for each time step
<i>t</i>, the mean size of &part;Loss/&part;h<sub>t</sub> on a fixed batch, on a log axis, one line
per epoch.</p>
<h3>The plain RNN: a product that shrinks</h3>
<p>h<sub>t</sub> = tanh(W<sub>x</sub> x<sub>t</sub> + W<sub>h</sub> h<sub>t-1</sub> + b). Going back one
step multiplies the gradient by W<sub>h</sub><sup>T</sup> diag(1 &minus; h<sub>t</sub><sup>2</sup>). Unless
that product is exactly of size one at every step, ninety of them in a row shrink it towards zero
(or blow it up): the RNN's line falls by orders of magnitude from the last step to the first, and the
early symbols never get the signal they need. On <i>temporal order</i> it stays near chance (25%).</p>
<h3>The LSTM: a path the gradient can walk</h3>
<p>c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t-1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub>, and
h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(c<sub>t</sub>). Along the cell state, going back one step
multiplies the gradient by the <b>forget gate</b> f<sub>t</sub> alone, element by element: no weight
matrix, no squashing. When the network learns to keep f<sub>t</sub> near 1 (this app starts it
open: a forget bias of +1), the gradient reaches step 10 almost as large as it left step 100. The
LSTM's line stays flat, and it learns the task (95% and more).</p>
<h3>The GRU</h3>
<p>h<sub>t</sub> = (1 &minus; z<sub>t</sub>) ⊙ n<sub>t</sub> + z<sub>t</sub> ⊙ h<sub>t-1</sub>:
the update gate z plays the forget gate's part, so it also keeps a path open.</p>
<h3>Try it</h3>
<ol><li>Training › Compare cells: an RNN, a GRU and an LSTM train one after another on <i>temporal
order</i>, with the task's own settings (Stop ends the comparison; your settings come back after).</li>
<li>Watch the gradient-flow plot per cell, then the Results tab: the three runs end selected together,
their accuracy curves overlaid.</li></ol>
<p>Hochreiter &amp; Schmidhuber (1997), <i>Long Short-Term Memory</i>, experiment 6a.</p>
"""
