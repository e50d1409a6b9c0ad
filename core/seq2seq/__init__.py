"""Encoder-decoder RNNs with attention and the temporal / input-driven decomposition of their attention
(Aitken et al. 2021; issue 18).

``config`` (frozen run configs), ``models`` (GRU or feed-forward encoder, GRU decoder, dot-product attention,
teacher forcing, greedy decoding), ``decompose`` (mu_t, chi(w), residual; the four score terms, their
alignment accuracy and R^2; numpy only), ``training``, ``analysis`` (the bundle's analysis.npz), ``bundle``
(``SeqBundle.translate``), ``pipeline`` (train a run; the bundled presets) and ``cli``. Tasks live in
``core.tasks.seq2seq``, storage in ``core.seq_store``.
"""
