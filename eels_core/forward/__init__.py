"""Part I of the book: the forward model and the synthetic database (paper: Methods, Tables 1-2).

Edge library and edge shapes, point-spread function, power-law background and jump ratio,
plural scattering, noise, measurement augmentations, batched synthesis, and the sharded HDF5
database. Nothing here imports the network.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "axis": ["GRID_START_EV", "GRID_STOP_EV", "GRID_STEP_EV", "N_CHANNELS", "MIN_WINDOW_EV",
             "network_energy_axis", "check_energy_axis", "check_counts", "measured_window"],
    "config": ["ELEMENTS", "SynthesisConfig"],
    "edges": ["EdgeLibrary", "EdgeVariant", "ElementEdge", "load_edge_library", "load_distractor_edges",
              "edge_labels", "reference_onsets_ev", "edge_template", "exelfs_modulation",
              "neighbour_shells"],
    "profiles": ["gaussian_peaks", "continuum_steps", "near_edge_profile"],
    "psf": ["psf_kernel", "convolve_psf", "psf_fwhm", "measured_fwhm"],
    "background": ["power_law_background", "power_law", "fit_power_law", "extrapolated_background_fit",
                   "jump_ratio", "measure_jump_ratio"],
    "noise": ["white_noise", "savgol_smooth", "shot_noise", "local_snr"],
    "scattering": ["plural_scattering_transfer", "low_loss_distribution"],
    "acquisition": ["AcquisitionConfig", "apply_acquisition"],
    "synthesis": ["SyntheticBatch", "SpectrumParameters", "synthesize", "render_spectra", "iter_blocks"],
    "database": ["write_database", "open_database", "DatabaseInfo", "DatabaseError"],
})
