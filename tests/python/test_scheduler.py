"""The DPM-Solver++ sampler against the spec's fixture table (architecture.md §3.7) and against diffusers'
DPMSolverMultistepScheduler, an independent implementation of the scheduler the official model uses."""

from __future__ import annotations

import json
from pathlib import Path

import diffusers
import numpy as np
import pytest
import torch

from vibevoice_onnx.scheduler import DpmSolverPlusPlus, inference_timesteps

# architecture.md §3.7, N = 5 (one copy, shared with the C++ test): k, t, σ_k, α_k, s_k, λ_k, and the updates
# x_{k+1} = c_x·x_k + c_m·m_k + c_m_prev·m_{k−1}
_SPEC = json.loads((Path(__file__).resolve().parents[1] / "data" / "scheduler" / "spec_n5.json").read_text())
SPEC_N5 = [tuple(row) for row in _SPEC["schedule"]]
SPEC_N5_UPDATES = [tuple(row) for row in _SPEC["updates"]]
# The spec's table was computed from a float32 schedule whose last digits differ by a few float32 ulps
# from torch's cumprod here; 5e-6 is far below anything the solver is sensitive to.
TABLE_TOL = 5e-6


def test_timesteps_match_spec():
    assert inference_timesteps(5).tolist() == [999, 799, 599, 400, 200]
    assert inference_timesteps(10).tolist() == [999, 899, 799, 699, 599, 500, 400, 300, 200, 100]
    assert inference_timesteps(20).tolist() == [
        999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300, 250, 200, 150, 100, 50
    ]
    assert inference_timesteps(1).tolist() == [999]
    with pytest.raises(ValueError):
        inference_timesteps(0)


def test_n5_sigma_table_matches_spec():
    s = DpmSolverPlusPlus(5)
    assert s.sigmas[-1] == 0.0 and len(s.sigmas) == 6
    for k, t, sigma, alpha, s_k, lam in SPEC_N5:
        assert s.timesteps[k] == t
        assert s.sigmas[k] == pytest.approx(sigma, rel=TABLE_TOL)
        assert s.alpha(k) == pytest.approx(alpha, rel=TABLE_TOL)
        assert s.sigma_t(k) == pytest.approx(s_k, abs=TABLE_TOL)
        assert s.lam(k) == pytest.approx(lam, abs=TABLE_TOL)


def test_n5_update_coefficients_match_spec():
    s = DpmSolverPlusPlus(5)
    for k, (c_x, c_m, c_prev) in enumerate(SPEC_N5_UPDATES):
        c = s.coefficients(k)
        assert (c.c_x, c.c_m, c.c_m_prev) == pytest.approx((c_x, c_m, c_prev), abs=TABLE_TOL), k
        assert c.c_noise == 0.0
    assert [s.order(k) for k in range(5)] == [1, 2, 2, 2, 0]


@pytest.mark.parametrize("solver", ["ode", "sde"])
def test_step_equals_its_linear_coefficients(solver):
    """`step` (float32 D0/D1 form) and `coefficients` (float64 linear form) describe the same update."""
    s = DpmSolverPlusPlus(10, solver)
    g = torch.Generator().manual_seed(1)
    x, m, m_prev, xi = (torch.randn(64, generator=g) for _ in range(4))
    for k in range(10):
        c = s.coefficients(k)
        want = c.c_x * x.double() + c.c_m * m.double() + c.c_m_prev * m_prev.double() + c.c_noise * xi.double()
        got = s.step(k, x, m, m_prev if k > 0 else None, xi)
        if k == 0:
            want = want - c.c_m_prev * m_prev.double()
        assert torch.allclose(got.double(), want, atol=1e-5, rtol=1e-5), k


def _toy_v(seed: int):
    """A smooth, x- and t-dependent stand-in for the diffusion head (v-prediction, [B, 64])."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(64, 64, generator=g) / 8
    c = torch.randn(64, generator=g)

    def v(x: torch.Tensor, t: float) -> torch.Tensor:
        return torch.tanh(x @ w.T + c * (t / 1000.0)) + 0.1 * x

    return v


@pytest.mark.parametrize("solver", ["ode", "sde"])
@pytest.mark.parametrize("steps", [1, 2, 3, 5, 10, 20])
def test_trajectory_matches_diffusers(steps, solver):
    ref = diffusers.DPMSolverMultistepScheduler(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="v_prediction",
        algorithm_type="dpmsolver++" if solver == "ode" else "sde-dpmsolver++",
    )
    ref.set_timesteps(steps)
    ours = DpmSolverPlusPlus(steps, solver)
    assert ref.timesteps.tolist() == ours.timesteps.tolist()
    assert np.array_equal(ref.sigmas.numpy(), ours.sigmas)

    v_fn = _toy_v(steps)
    g = torch.Generator().manual_seed(100 + steps)
    x_init = torch.randn(3, 64, generator=g)
    noise = torch.randn(steps, 3, 64, generator=g)  # noise[k]: SDE noise of step k (last one unused)

    x = x_init.clone()
    for k, t in enumerate(ref.timesteps):
        x = ref.step(v_fn(x, float(t)), t, x, variance_noise=noise[k] if solver == "sde" else None).prev_sample
    got = ours.sample(v_fn, x_init.clone(), noise[: steps - 1])
    assert torch.allclose(got, x, atol=1e-5, rtol=0), (got - x).abs().max().item()


def test_sde_requires_noise_and_ode_ignores_it():
    v_fn = _toy_v(0)
    x = torch.randn(64, generator=torch.Generator().manual_seed(2))
    with pytest.raises(ValueError, match="noise"):
        DpmSolverPlusPlus(5, "sde").sample(v_fn, x)
    ode = DpmSolverPlusPlus(5, "ode")
    assert torch.equal(ode.sample(v_fn, x), ode.sample(v_fn, x, torch.randn(4, 64)))
    # one step: x = x0 for both solvers, no noise needed
    assert torch.equal(DpmSolverPlusPlus(1, "sde").sample(v_fn, x), DpmSolverPlusPlus(1, "ode").sample(v_fn, x))
    with pytest.raises(ValueError):
        DpmSolverPlusPlus(5, "euler")
