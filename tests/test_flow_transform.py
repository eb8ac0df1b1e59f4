"""Our logicle equals flowutils' C logicle (FlowKit's) to rounding; asinh with a cofactor is GatingML asinh."""

from __future__ import annotations

import math

import numpy as np
import pytest

from belimap.flow.transform import apply_transform, asinh_params, logicle, logicle_inverse


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.lognormal(6, 3, 200_000), -rng.lognormal(3, 2, 50_000),
                           np.linspace(-2000, 2000, 40_001), [0.0, 1.0, -1.0, 262144.0, 1e7, -1e5]])


@pytest.mark.parametrize("t,w,m,a", [(262144, 0.5, 4.5, 0), (262144, 1.0, 4.5, 0.5), (10000, 0.2, 4.0, 0),
                                     (262144, 0.25, 4.5, 1.0)])
def test_logicle_matches_flowutils(values, t, w, m, a):
    import flowutils

    ref = flowutils.transforms.logicle(values.copy(), None, t=t, m=m, w=w, a=a)
    ours = logicle(values, t, w, m, a)
    assert np.max(np.abs(ours - ref)) < 1e-12
    assert logicle(np.array([float(t)]), t, w, m, a)[0] == pytest.approx(1.0, abs=1e-12)
    back = logicle_inverse(ours, t, w, m, a)
    np.testing.assert_allclose(back, values, rtol=1e-9, atol=1e-6)


def test_logicle_keeps_shape_and_nan():
    x = np.array([[0.0, np.nan], [100.0, -100.0]])
    y = logicle(x)
    assert y.shape == (2, 2) and np.isnan(y[0, 1])
    assert y[1, 0] - y[0, 0] == pytest.approx(y[0, 0] - y[1, 1])  # symmetric about zero


def test_invalid_logicle_parameters():
    with pytest.raises(ValueError):
        logicle(np.ones(3), 262144, 3.0, 4.5, 0)  # 2W > M


def test_asinh_cofactor_is_gatingml_asinh():
    from flowkit import transforms as fkt

    t, m, a = asinh_params(150.0)
    xf = fkt.AsinhTransform(param_t=t, param_m=m, param_a=a)
    x = np.linspace(-5000, 200000, 1001)
    expected = np.arcsinh(x / 150.0) / (m * math.log(10))
    np.testing.assert_allclose(apply_transform(xf, x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(apply_transform(xf, x), xf.apply(x.reshape(-1, 1)).ravel(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        asinh_params(0)
