"""Training judges (``celm judge train``): one module per recipe.

- :mod:`.fourway`: the four-verdict pair judge, the shipped default (``--kind fourway``);
- :mod:`.probe`: the probe over a chat model's hidden states (``--kind probe``);
- :mod:`.pair_v2`: the three-verdict judge (``--kind pair-v2``), and the helpers the recipes share.
"""
