"""Part III of the book: real data (paper: "Real spectra", Table 4).

Reading measured spectra and HyperSpy signals, naming their edges with the shipped network,
estimating onsets, multi-Gaussian fits of measured edges, and scoring on the validation spectra.
Nothing here imports the training code.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "io": ["Spectrum", "read_spectrum", "as_spectrum", "spectrum_from_signal"],
    "predict": ["EdgePrediction", "predict_edges", "add_detected_elements", "OcclusionScan", "occlusion_scan"],
    "onsets": ["estimate_onsets"],
    "look_alikes": ["LookAlike", "look_alike_table", "look_alike_edges", "look_alike_path"],
    "fitting": ["MultiGaussianFit", "fit_multi_gaussian", "fit_power_law_background", "subtract_power_law_background"],
    "real_spectra": ["load_real_spectra_index", "scored_edges", "record_scored_edges", "predict_summed_files", "predict_pixel_files"],
})
