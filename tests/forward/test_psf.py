"""The PSF: Gaussian (x) Lorentzian, unit area, the right width, and the FFT form equal to it."""

import numpy as np
import pytest
from scipy.special import voigt_profile

from eels_core.forward.psf import (
    convolve_psf,
    gaussian_psf,
    gaussian_sigma,
    lorentzian_psf,
    measured_fwhm,
    psf_fwhm,
    psf_kernel,
    psf_transfer_function,
)


@pytest.mark.parametrize("fwhm_g,hwhm_l", [(0.1, 0.1), (0.5, 0.3), (1.6, 0.6), (1.0, 0.1), (0.1, 0.6)])
def test_psf_kernel_is_voigt_with_unit_area(fwhm_g, hwhm_l):
    e, k = psf_kernel(0.01, fwhm_g, hwhm_l, half_width_ev=60.0)
    assert k.sum() * 0.01 == pytest.approx(1.0, abs=1e-9)
    expected = voigt_profile(e, gaussian_sigma(fwhm_g), hwhm_l)
    # the numerical Gaussian (x) Lorentzian matches scipy's Voigt (truncated Lorentzian wings renormalised)
    assert np.max(np.abs(k - expected)) < 0.01 * expected.max()
    assert measured_fwhm(e, k) == pytest.approx(psf_fwhm(fwhm_g, hwhm_l), rel=0.01)


def test_factors_have_unit_area_and_their_widths():
    e = np.arange(-400, 400, 0.001)
    g = gaussian_psf(e, 0.8)
    lor = lorentzian_psf(e, 0.3)
    assert np.trapezoid(g, e) == pytest.approx(1.0, abs=1e-6)
    assert np.trapezoid(lor, e) == pytest.approx(1.0, abs=1e-3)  # wings beyond 400 eV: 0.05 %
    assert measured_fwhm(e, g) == pytest.approx(0.8, rel=1e-3)
    assert measured_fwhm(e, lor) == pytest.approx(0.6, rel=1e-3)


def test_transfer_function_is_fourier_transform_of_kernel():
    h = psf_transfer_function(4096, 0.05, 0.7, 0.25)
    assert h[0] == pytest.approx(1.0)  # unit area
    impulse = np.zeros(4096)
    impulse[2048] = 1 / 0.05
    out = convolve_psf(impulse, 0.05, 0.7, 0.25, pad=0)
    e = (np.arange(4096) - 2048) * 0.05
    expected = voigt_profile(e, gaussian_sigma(0.7), 0.25)
    assert np.max(np.abs(out - expected)) < 2e-3 * expected.max()
    assert out.sum() * 0.05 == pytest.approx(1.0, rel=1e-6)


def test_batched_convolution_uses_each_rows_psf():
    x = np.zeros((3, 2000), dtype=np.float32)
    x[:, 1000] = 1.0
    fw = np.array([0.2, 0.8, 1.6])
    hw = np.array([0.1, 0.3, 0.6])
    out = convolve_psf(x, 0.1, fw, hw)
    assert out.dtype == np.float32
    for i in range(3):
        single = convolve_psf(x[i].astype(np.float64), 0.1, fw[i], hw[i])
        np.testing.assert_allclose(out[i], single, atol=1e-6)
    # wider PSFs have lower peaks
    assert out[0].max() > out[1].max() > out[2].max()


def test_one_psf_per_spectrum_shared_by_its_rows_gives_the_same_bits():
    from eels_core.forward.psf import fft_length
    from eels_core.forward.scattering import plural_scattering_transfer

    rng = np.random.default_rng(4)
    x = rng.random((9, 1500)).astype(np.float32)
    spectrum = np.array([0, 0, 1, 2, 2, 2, 1, 3, 0])  # rows in any order
    fw, hw = rng.uniform(0.1, 1.6, 4), rng.uniform(0.1, 0.6, 4)
    n_fft = fft_length(1500, 1024)
    plural = plural_scattering_transfer(n_fft, 0.2, rng.uniform(0, 0.8, 4), rng.uniform(15, 30, 4), rng.uniform(3, 12, 4))
    shared = convolve_psf(x, 0.2, fw, hw, pad=1024, extra_transfer=plural, rows=spectrum)
    repeated = convolve_psf(x, 0.2, fw[spectrum], hw[spectrum], pad=1024, extra_transfer=plural[spectrum])
    np.testing.assert_array_equal(shared, repeated)
