"""The compiled loops of the forward model give the bits of the numpy/scipy formulas they replace."""

import numpy as np
import pytest
import scipy.ndimage

from eels_core.forward import _kernels
from eels_core.forward.config import SynthesisConfig
from eels_core.forward.noise import _sfc64_states, normal_quantile_table
from eels_core.forward.synthesis import (
    BLOCK_SIZE,
    _block_rng,
    _edge_order,
    _edge_tails,
    _edges_of,
    _tables,
    sample_parameters,
)


def test_table_noise_reads_the_16_bit_words_of_each_sfc64_stream():
    seeds = np.array([0, 1, 7, 2**40 + 3, 2**63 - 1], dtype=np.uint64)
    table = normal_quantile_table()
    for n in (1, 4, 5, 803):
        out = np.empty((seeds.size, n), dtype=np.float32)
        _kernels.table_noise(_sfc64_states(seeds), table, out)
        for i, seed in enumerate(seeds):
            words = np.random.SFC64(int(seed)).random_raw(-(-n // 4)).astype("<u8").view("<u2")[:n]
            np.testing.assert_array_equal(out[i], table[words])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_moving_average_equals_scipy_uniform_filter_in_mirror_mode(dtype):
    rng = np.random.default_rng(3)
    for n, frames in ((700, [1, 3, 31, 59, 41]), (20, [31, 59, 5]), (2, [3, 5]), (1, [1, 7])):
        rows = rng.standard_normal((len(frames), n)).astype(dtype)
        out = np.empty_like(rows)
        _kernels.moving_average(rows, np.array(frames, dtype=np.int64), out)
        for i, frame in enumerate(frames):
            expected = scipy.ndimage.uniform_filter1d(rows[i], frame, mode="mirror")
            np.testing.assert_array_equal(out[i], expected, err_msg=f"n={n}, frame={frame}")


def test_interpolate_rows_equals_the_vectorised_single_precision_formula():
    rng = np.random.default_rng(4)
    values = rng.random((6, 500), dtype=np.float32)
    n_valid, n_out = 450, 420
    step = rng.uniform(0.97, 1.03, 6).astype(np.float32)
    offset = np.array([-3.5, 0.0, 2.25, 17.1, 30.0, 60.7], dtype=np.float32)  # some fall off either end
    out = np.empty((6, n_out), dtype=np.float32)
    _kernels.interpolate_rows(values, n_valid, step, offset, out)
    position = np.arange(n_out, dtype=np.float32) * step[:, None]
    position += offset[:, None]
    i0 = np.clip(position.astype(np.int64), 0, n_valid - 2)
    fraction = np.subtract(position, i0, dtype=np.float32)
    v0 = np.take_along_axis(values, i0, axis=1)
    expected = np.take_along_axis(values, i0 + 1, axis=1)
    expected -= v0
    expected *= fraction
    expected += v0
    np.testing.assert_array_equal(out, expected)


def test_summed_and_windowed_edges_equal_the_built_edges_with_exelfs():
    config = SynthesisConfig.with_real_data_physics().replace(
        render_version=2, exelfs_probability=0.5, distractor_probability=0.6
    )
    t = _tables(config)
    params = sample_parameters(_block_rng(9, 2), BLOCK_SIZE, config)
    tails = _edge_tails(params, t, _edge_order(params, t), lambda stage: None)
    assert (tails.exelfs_row >= 0).any() and (tails.exelfs_row < 0).any()  # both kinds of edge
    n_model = t.model_energy.size
    edges = _edges_of(t, tails, n_model)
    scale = np.random.default_rng(1).uniform(0.1, 3.0, tails.flat.size).astype(np.float32)

    total = np.full((BLOCK_SIZE, n_model + 64), np.nan, dtype=np.float32)
    _kernels.add_scaled_edges(*tails.kernel_arguments(t.templates), t.first_nonzero, scale, tails.spectrum, n_model, total)
    expected = np.zeros((BLOCK_SIZE, n_model), dtype=np.float32)
    for k in range(tails.flat.size):  # whole rows, in working order
        expected[tails.spectrum[k]] += scale[k] * edges[k]
    np.testing.assert_array_equal(total[:, :n_model], expected)
    assert not total[:, n_model:].any()  # the padding is zeroed

    first = np.random.default_rng(2).integers(0, n_model - 300, tails.flat.size)
    window = np.empty((tails.flat.size, 300), dtype=np.float32)
    _kernels.edge_windows(*tails.kernel_arguments(t.templates), n_model, first, window)
    np.testing.assert_array_equal(window, edges[np.arange(first.size)[:, None], first[:, None] + np.arange(300)])


def test_first_nonzero_channel_of_the_templates():
    t = _tables(SynthesisConfig())
    n_model = t.model_energy.size
    for k in range(0, t.templates.shape[0], 7):
        nonzero = np.flatnonzero(t.templates[k, :n_model])
        assert t.first_nonzero[k] == (nonzero[0] if nonzero.size else n_model)


def test_quadratic_rows_rounds_each_product_before_the_sum():
    rng = np.random.default_rng(5)
    a, c = rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    f = rng.uniform(0, 3, 257).astype(np.float32)
    out = np.empty((4, f.size), dtype=np.float32)
    _kernels.quadratic_rows(a, c, f, out)
    expected = a[:, None] * (f * f)[None, :]
    expected += c[:, None] * f[None, :]
    np.testing.assert_array_equal(out, expected)
