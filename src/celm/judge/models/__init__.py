"""The judge kinds, one module each, chosen by a spec's name (``builtin``, ``keyword``, ``llm:…``,
``guard:…``, ``hf-classifier:…``, ``probe``; the registry is :data:`celm.judge.JUDGES`).

- :mod:`.builtin`: the ``builtin`` judge, NumPy weights on CPU (the default);
- :mod:`.fourway`: its four-verdict weights (safe / reject / risk / irrelevant from the pair);
- :mod:`.probe`: four verdicts from a chat model's hidden states;
- :mod:`.llm`: any model backend with the paper's 0-6 rubric;
- :mod:`.guard` and :mod:`.guard_presets`: guard models in their own prompt and output format;
- :mod:`.hf_classifier`: a transformers sequence classifier;
- :mod:`.keyword`: refusal patterns and risk keywords, a baseline.
"""
