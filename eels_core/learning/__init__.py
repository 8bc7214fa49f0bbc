"""Part II of the book: the network and its training (paper: Fig. 5, Table 3, Fig. 6).

Preprocessing (spectrum -> network input), the CNN-BiLSTM and its fast forward passes, checkpoints
and shipped weights, training and its presets, metrics and the sensitivity analysis. Inference needs
only ``preprocessing``, ``network`` and ``checkpoint``; ``training`` is imported only when used.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "preprocessing": ["N_INPUTS", "preprocess_batch", "preprocess_spectrum", "preprocess_window",
                      "edges_in_window", "sample_windows"],
    "defects": ["RepairedCounts", "find_bad_channels", "repair_bad_channels"],
    "network": ["CNNBiLSTM", "NetworkConfig", "FusedCNNBiLSTM", "WindowedForward", "fused_for_inference",
                "inference_autocast", "native_bfloat16", "choose_inference_path", "INFERENCE_PATHS",
                "count_parameters"],
    "checkpoint": ["CheckpointError", "DEFAULT_WEIGHTS", "load_model", "load_checkpoint", "export_weights"],
    "training": ["TrainingConfig", "TrainingResult", "train"],
    "presets": ["preset", "preset_names", "all_presets", "load_recipe", "physics_beyond_paper"],
    "datasets": ["SpectrumDataset", "SyntheticSpectrumStream"],
    "metrics": ["evaluate", "Report", "exact_accuracy", "recognition_accuracy", "per_spectrum_scores"],
    "sensitivity": ["SensitivityResult", "detectable_limits"],
})
