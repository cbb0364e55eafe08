"""The reference trainer of Loss Radar: what the extension launches (``python -m lossradar_trainer.train``)
and what the evaluation fixtures were made with. A user of the SDK never needs it: it sits beside
``lossradar`` in the extension's copy (``dist/python``) and in this repository, not in the pip package,
and it reaches the SDK only through its public API (``lossradar.init`` and the ``Run`` it returns).

* ``train``: the command line and the training loop;
* ``experiment`` and ``experiments/``: the experiment files and their schema;
* ``models``, ``data``, ``losses``: the char-level transformer and the MLP, their local data, and the
  classification losses robust to noisy labels.
"""
