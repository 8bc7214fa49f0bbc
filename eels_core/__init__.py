"""eels_core: forward model, synthetic EELS database and edge recognition (Kong, Ji & Xin, Sci. Rep. 2022)."""

__version__ = "0.1.0"
