"""The CELM taxonomy: 17 risk scenarios in two domains and the 17 norms that govern them."""

from celm.taxonomy._model import Domain, Norm, Scenario, Taxonomy, get_taxonomy

__all__ = ["Domain", "Norm", "Scenario", "Taxonomy", "get_taxonomy"]
