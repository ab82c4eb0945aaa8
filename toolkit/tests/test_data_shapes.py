"""Bringing dataset samples to other shapes for parity across dynamic dims."""
from __future__ import annotations

import numpy as np

from modelship_toolkit.data import crop_or_pad_axis, fit_to_shape, resize_axis


def test_resizing_a_ramp_keeps_it_a_ramp_and_keeps_the_dtype():
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    up = resize_axis(x, 1, 16)
    assert up.dtype == np.float32 and up.shape == (1, 16)
    assert np.all(np.diff(up[0]) >= 0) and up[0, 0] == 0 and up[0, -1] == 7
    down = resize_axis(x, 1, 4)
    assert np.allclose(down[0], [0.5, 2.5, 4.5, 6.5])  # pixel centres, like align_corners=False


def test_integer_inputs_are_cut_or_zero_padded_never_interpolated():
    ids = np.array([[5, 6, 7, 8]], dtype=np.int64)
    assert crop_or_pad_axis(ids, 1, 2).tolist() == [[5, 6]]
    assert crop_or_pad_axis(ids, 1, 6).tolist() == [[5, 6, 7, 8, 0, 0]]
    assert fit_to_shape(ids, [1, 6]).dtype == np.int64


def test_fit_to_shape_changes_only_the_axes_that_differ():
    images = np.random.default_rng(0).random((3, 2, 8, 8)).astype(np.float32)
    out = fit_to_shape(images, [3, 2, 12, 8])
    assert out.shape == (3, 2, 12, 8)
    assert np.array_equal(fit_to_shape(images, [3, 2, 8, 8]), images)
