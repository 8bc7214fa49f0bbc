"""Compiled loops of the forward model (numba), each giving the same bits as the numpy/scipy formula it replaces.

Private: the public functions of :mod:`eels_core.forward.noise` and
:mod:`eels_core.forward.synthesis` call these. Each loop does one step in one pass over the
data, with the same floating-point operations in the same order as the vectorised formula it
replaces, so the results are bit for bit the same (``tests/forward/test_kernels.py`` compares
each with that formula). No ``fastmath``: the compiler may not reorder or fuse operations.

The kernels release the GIL (``nogil``), so threads rendering different blocks run them at the
same time. They are compiled on first use and cached next to this file.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")
_MASK32 = np.uint64(0xFFFFFFFF)


@numba.njit(**_JIT)
def _hashmix(value: np.uint64, hash_const: np.uint64) -> tuple[np.uint64, np.uint64]:
    """numpy's ``SeedSequence`` hash of one 32-bit word (values held in 64-bit integers)."""
    value = value ^ hash_const
    hash_const = (hash_const * np.uint64(0x931E8875)) & _MASK32
    value = (value * hash_const) & _MASK32
    return value ^ (value >> np.uint64(16)), hash_const


@numba.njit(**_JIT)
def sfc64_states(seeds: np.ndarray) -> np.ndarray:
    """The state ``(a, b, c, counter)`` of ``np.random.SFC64(int(seed))`` for each seed, shape (b, 4).

    numpy seeds SFC64 from a ``SeedSequence`` of the integer: its two 32-bit words and two zeros
    are hashed into a pool of four words, the pool is mixed, three 64-bit words are drawn from it,
    and the generator then runs 12 steps.
    """
    states = np.empty((seeds.size, 4), dtype=np.uint64)
    pool = np.empty(4, dtype=np.uint64)
    words = np.empty(6, dtype=np.uint64)
    for r in range(seeds.size):
        seed = np.uint64(seeds[r])
        hash_const = np.uint64(0x43B0D7E5)
        for i in range(4):
            word = (seed & _MASK32) if i == 0 else ((seed >> np.uint64(32)) if i == 1 else np.uint64(0))
            pool[i], hash_const = _hashmix(word, hash_const)
        for i_src in range(4):
            for i_dst in range(4):
                if i_src != i_dst:
                    hashed, hash_const = _hashmix(pool[i_src], hash_const)
                    mixed = (np.uint64(0xCA01F9DD) * pool[i_dst] - np.uint64(0x4973F715) * hashed) & _MASK32
                    pool[i_dst] = mixed ^ (mixed >> np.uint64(16))
        out_const = np.uint64(0x8B51F9DD)
        for i in range(6):
            value = pool[i % 4] ^ out_const
            out_const = (out_const * np.uint64(0x58F38DED)) & _MASK32
            value = (value * out_const) & _MASK32
            words[i] = value ^ (value >> np.uint64(16))
        a = words[0] | (words[1] << np.uint64(32))
        b = words[2] | (words[3] << np.uint64(32))
        c = words[4] | (words[5] << np.uint64(32))
        counter = np.uint64(1)
        for _ in range(12):
            step = a + b + counter
            counter += np.uint64(1)
            a, b, c = b ^ (b >> np.uint64(11)), c + (c << np.uint64(3)), ((c << np.uint64(24)) | (c >> np.uint64(40))) + step
        states[r, 0], states[r, 1], states[r, 2], states[r, 3] = a, b, c, counter
    return states


@numba.njit(**_JIT)
def table_noise(states: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """Row ``r`` of ``out``: entries of ``table`` picked by the 16-bit words of SFC64 stream ``r``.

    Stream ``r`` starts from ``states[r]`` (:func:`sfc64_states`); its 64-bit outputs are read as
    four little-endian 16-bit words each, as ``random_raw(...).view("<u2")`` reads them.
    """
    n = out.shape[1]
    for r in range(out.shape[0]):
        a, b, c, counter = states[r, 0], states[r, 1], states[r, 2], states[r, 3]
        row = out[r]
        k = 0
        while k < n:
            word = a + b + counter
            counter += np.uint64(1)
            a, b, c = b ^ (b >> np.uint64(11)), c + (c << np.uint64(3)), ((c << np.uint64(24)) | (c >> np.uint64(40))) + word
            for q in range(min(4, n - k)):
                row[k + q] = table[(word >> np.uint64(16 * q)) & np.uint64(0xFFFF)]
            k += 4


@numba.njit(**_JIT)
def _mirrored(j: int, n: int) -> int:
    """Index into a row of ``n`` values of position ``j`` of its mirror extension (``mode="mirror"``)."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    j = abs(j) % period
    return period - j if j >= n else j


@numba.njit(**_JIT)
def _mirror_extend(row: np.ndarray, before: int, extended: np.ndarray, length: int) -> None:
    """``extended[:length]``: ``row`` mirror-extended by ``before`` values on the left, then on the right."""
    n = row.size
    for j in range(n):
        extended[j + before] = row[j]
    for j in range(before):
        extended[j] = row[_mirrored(j - before, n)]
    for j in range(n + before, length):
        extended[j] = row[_mirrored(j - before, n)]


@numba.njit(**_JIT)
def _frame_sum(extended: np.ndarray, frame: int) -> float:
    total = 0.0
    for j in range(frame):
        total += extended[j]
    return total


@numba.njit(**_JIT)
def _divide_into(running: np.ndarray, frame: int, target: np.ndarray) -> None:
    length = np.float64(frame)
    for j in range(target.size):
        target[j] = running[j] / length


@numba.njit(**_JIT)
def moving_average(rows: np.ndarray, frames: np.ndarray, out: np.ndarray) -> None:
    """``scipy.ndimage.uniform_filter1d(rows[r], frames[r], mode="mirror")`` into ``out[r]``, each row.

    The same arithmetic as scipy 1.17: the row, mirror-extended, in double precision; a running
    sum over the frame, updated by (entering - leaving) value; each output the sum divided by the
    frame length, rounded to the output's type. Two rows are summed in the same loop (two
    independent chains of additions, which the processor overlaps).
    """
    n = rows.shape[1]
    frame_max = int(frames.max()) if frames.size else 1
    ext_a = np.empty(n + frame_max - 1, dtype=np.float64)
    ext_b = np.empty(n + frame_max - 1, dtype=np.float64)
    run_a = np.empty(n, dtype=np.float64)
    run_b = np.empty(n, dtype=np.float64)
    r = 0
    while r < rows.shape[0]:
        pair = r + 1 < rows.shape[0]
        fa = int(frames[r])
        fb = int(frames[r + 1]) if pair else fa
        _mirror_extend(rows[r], fa // 2, ext_a, n + fa - 1)
        _mirror_extend(rows[r + 1] if pair else rows[r], fb // 2, ext_b, n + fb - 1)
        total_a, total_b = _frame_sum(ext_a, fa), _frame_sum(ext_b, fb)
        run_a[0], run_b[0] = total_a, total_b
        for j in range(1, n):
            total_a += ext_a[j + fa - 1] - ext_a[j - 1]
            total_b += ext_b[j + fb - 1] - ext_b[j - 1]
            run_a[j] = total_a
            run_b[j] = total_b
        _divide_into(run_a, fa, out[r])
        if pair:
            _divide_into(run_b, fb, out[r + 1])
        r += 2


@numba.njit(**_JIT)
def interpolate_rows(values: np.ndarray, n_valid: int, step: np.ndarray, offset: np.ndarray, out: np.ndarray) -> None:
    """Linear interpolation of the first ``n_valid`` values of each row of ``values`` at
    ``position = channel * step[r] + offset[r]``.

    Single precision throughout, as the vectorised formula: the position, its integer part
    (truncated, then clipped to ``0 ... n_valid - 2``) and the fraction beyond it, then
    ``v0 + fraction * (v1 - v0)`` computed as ``((v1 - v0) * fraction) + v0``.
    """
    last = n_valid - 2
    for r in range(out.shape[0]):
        row, target = values[r], out[r]
        s, o = np.float32(step[r]), np.float32(offset[r])
        for c in range(out.shape[1]):
            position = np.float32(c) * s + o
            i = np.int64(position)
            i = 0 if i < 0 else (last if i > last else i)
            fraction = position - np.float32(i)
            v0 = row[i]
            target[c] = (row[i + 1] - v0) * fraction + v0


@numba.njit(**_JIT)
def tail_exponents(
    log_energy: np.ndarray, log_tail_start: np.ndarray, minus_exponent: np.ndarray, first: np.ndarray,
    start: np.ndarray, out: np.ndarray,
) -> None:
    """The exponent ``-s (ln E - ln E_tail)`` of each row's power-law tail, over its tail only.

    Row ``k`` covers the channels ``first[k] ... n - 1`` (where ``ln E >= ln E_tail``) and is
    written to ``out[start[k]:]``, all rows one after the other; single precision, the
    difference first, then the product.
    """
    n = log_energy.size
    for k in range(first.size):
        if first[k] >= n:
            continue
        lts, ms = log_tail_start[k], minus_exponent[k]
        source = log_energy[first[k] :]
        target = out[start[k] : start[k] + source.size]
        for i in range(source.size):
            target[i] = (source[i] - lts) * ms


@numba.njit(**_JIT)
def templates_times_tails(
    templates: np.ndarray, flat: np.ndarray, first: np.ndarray, start: np.ndarray, factor: np.ndarray,
    n_model: int, out: np.ndarray,
) -> None:
    """Row ``k`` of ``out``: template ``flat[k]``, times its tail factor on channels ``first[k] ... n_model - 1``.

    ``factor[start[k]:]`` holds that row's factors (the exponentials of :func:`tail_exponents`);
    the other channels are copied unchanged.
    """
    for k in range(out.shape[0]):
        source, target = templates[flat[k]], out[k]
        tail = min(first[k], n_model)
        target[:tail] = source[:tail]
        tail_source, tail_target = source[tail:n_model], target[tail:n_model]
        tail_factor = factor[start[k] : start[k] + n_model - tail]
        for j in range(tail_source.size):
            tail_target[j] = tail_source[j] * tail_factor[j]
        target[n_model:] = source[n_model : out.shape[1]]


@numba.njit(**_JIT)
def edge_windows(
    templates: np.ndarray, flat: np.ndarray, first: np.ndarray, start: np.ndarray, factor: np.ndarray,
    exelfs_row: np.ndarray, exelfs: np.ndarray, n_model: int, window_first: np.ndarray, out: np.ndarray,
) -> None:
    """Row ``k`` of ``out``: channels ``window_first[k] ...`` of edge ``k`` (template, tail, EXELFS).

    Edge ``k`` is what :func:`templates_times_tails` writes, then multiplied by
    ``exelfs[exelfs_row[k]]`` when ``exelfs_row[k] >= 0``; only the window is computed.
    """
    for k in range(out.shape[0]):
        source, target = templates[flat[k]], out[k]
        tail = min(first[k], n_model)
        at = start[k] - tail
        ex = exelfs_row[k]
        j0 = window_first[k]
        for i in range(out.shape[1]):
            j = j0 + i
            value = source[j]
            if j >= tail:
                value = value * factor[at + j]
            if ex >= 0:
                value = value * exelfs[ex, j]
            target[i] = value


@numba.njit(**_JIT)
def add_scaled_edges(
    templates: np.ndarray, flat: np.ndarray, first: np.ndarray, start: np.ndarray, factor: np.ndarray,
    exelfs_row: np.ndarray, exelfs: np.ndarray, nonzero_from: np.ndarray, scale: np.ndarray,
    target_row: np.ndarray, n_model: int, out: np.ndarray,
) -> None:
    """``out[target_row[k]] += scale[k] * edge_k`` for k = 0, 1, ... in that order (``out`` zeroed first).

    Edge ``k`` as in :func:`edge_windows`, over the first ``n_model`` channels (``out`` may be
    wider: zero padding for a Fourier transform). The
    channels below ``nonzero_from[flat[k]]``, where the template is exactly zero, are skipped:
    adding ``scale * 0`` leaves a sum that started at +0 unchanged, so the result is that of
    adding whole rows.
    """
    out[...] = 0
    for k in range(flat.size):
        a = scale[k]
        source, target = templates[flat[k]], out[target_row[k]]
        tail = min(first[k], n_model)
        begin = min(nonzero_from[flat[k]], tail)
        tail_factor = factor[start[k] : start[k] + n_model - tail]
        # slices with their own indices from 0 (loops the compiler vectorises)
        head_source, head_target = source[begin:tail], target[begin:tail]
        tail_source, tail_target = source[tail:n_model], target[tail:n_model]
        if exelfs_row[k] < 0:
            for j in range(head_source.size):
                head_target[j] += a * head_source[j]
            for j in range(tail_source.size):
                tail_target[j] += a * (tail_source[j] * tail_factor[j])
        else:
            modulation = exelfs[exelfs_row[k]]
            head_modulation, tail_modulation = modulation[begin:tail], modulation[tail:n_model]
            for j in range(head_source.size):
                head_target[j] += a * (head_source[j] * head_modulation[j])
            for j in range(tail_source.size):
                tail_target[j] += a * ((tail_source[j] * tail_factor[j]) * tail_modulation[j])


@numba.njit(**_JIT)
def quadratic_rows(a: np.ndarray, c: np.ndarray, f: np.ndarray, out: np.ndarray) -> None:
    """``out[r] = a[r] * (f * f) + c[r] * f``, each product rounded before the sum, as numpy computes it."""
    for r in range(out.shape[0]):
        ar, cr, target = a[r], c[r], out[r]
        for j in range(f.size):
            target[j] = ar * (f[j] * f[j]) + cr * f[j]
