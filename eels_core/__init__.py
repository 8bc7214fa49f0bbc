"""eels_core: forward model, synthetic EELS database and edge recognition (Kong, Ji & Xin, Sci. Rep. 2022).

Three subpackages, one per part of the book, with the dependency running one way:

* :mod:`eels_core.forward`: the forward model and the synthetic database;
* :mod:`eels_core.learning`: the network, its checkpoints and its training;
* :mod:`eels_core.real`: real spectra: reading, naming edges, onsets, fits, scoring.

The most used names are available here too (imported on first use).
"""

from ._lazy import attach

__version__ = "0.1.0"

__getattr__, __dir__, _names = attach(__name__, {
    "forward.config": ["SynthesisConfig", "ELEMENTS"],
    "forward.synthesis": ["synthesize"],
    "forward.edges": ["load_edge_library", "edge_labels"],
    "learning.network": ["CNNBiLSTM"],
    "learning.checkpoint": ["load_model"],
    "real.io": ["read_spectrum", "Spectrum"],
    "real.predict": ["predict_edges", "EdgePrediction"],
})
__all__ = ["__version__", *_names]
