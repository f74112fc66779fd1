"""DPM-Solver++ multistep sampler of VibeVoice's diffusion head, written from the explicit math of
architecture.md §3.7 (not from diffusers, which the tests use only as an independent oracle).

The official model builds diffusers' `DPMSolverMultistepScheduler(num_train_timesteps=1000,
beta_schedule="cosine", prediction_type="v_prediction")` with everything else at its defaults: order 2,
midpoint, lower-order first step, final sigma 0 (so the last step returns x0), linspace timesteps.
The arithmetic below mirrors where the original rounds to float32 (betas, cumulative product, sigma
table and the update itself), so trajectories agree with it to float32 rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

SOLVERS = ("ode", "sde")  # "dpmsolver++" and "sde-dpmsolver++"


def train_sigmas(num_train_timesteps: int = 1000, max_beta: float = 0.999) -> torch.Tensor:
    """σ̃_i = sqrt((1 − Ā_i)/Ā_i) of the 1000-step squaredcos_cap_v2 schedule, as float32 like torch.

    The betas come from float64 math but are stored as float32; Ā is a float32 cumulative product.
    """

    def alpha_bar(u: float) -> float:
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    n = num_train_timesteps
    betas = [min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), max_beta) for i in range(n)]
    alphas_cumprod = torch.cumprod(1.0 - torch.tensor(betas, dtype=torch.float32), dim=0)
    return ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5


def inference_timesteps(steps: int, num_train_timesteps: int = 1000) -> np.ndarray:
    """t_k = round_half_even(linspace(0, T−1, N+1)) reversed, last dropped: N=5 → [999, 799, 599, 400, 200]."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    grid = np.linspace(0, num_train_timesteps - 1, steps + 1).round()  # np.round is half-to-even
    return grid[::-1][:-1].astype(np.int64).copy()


@dataclass(frozen=True)
class StepCoefficients:
    """x_next = x·c_x + m_k·c_m + m_{k−1}·c_m_prev + ξ·c_noise (float64, for fixtures and C++ tests)."""

    c_x: float
    c_m: float
    c_m_prev: float
    c_noise: float


class DpmSolverPlusPlus:
    """The sampler for one fixed number of steps. Stateless between frames: call `sample` per frame."""

    def __init__(self, steps: int, solver: str = "ode", num_train_timesteps: int = 1000):
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
        self.steps = steps
        self.solver = solver
        self.timesteps = inference_timesteps(steps, num_train_timesteps)
        table = train_sigmas(num_train_timesteps).numpy()
        # σ at the chosen (integer) timesteps, then the final σ_N = 0; float32 like the original
        self.sigmas = np.concatenate([table[self.timesteps], [0.0]]).astype(np.float32)
        sig = torch.from_numpy(self.sigmas)
        # α(σ) = 1/sqrt(σ²+1), s(σ) = σ·α; λ = ln α − ln s (λ_N = +inf, never used in arithmetic)
        self._alpha = 1 / ((sig**2 + 1) ** 0.5)
        self._s = sig * self._alpha
        self._lambda = torch.log(self._alpha) - torch.log(self._s)

    # -- per-step scalars -------------------------------------------------------------------------
    def alpha(self, k: int) -> float:
        return float(self._alpha[k])

    def sigma_t(self, k: int) -> float:
        """s_k = σ_k·α_k (the noise level of the sample at step k)."""
        return float(self._s[k])

    def lam(self, k: int) -> float:
        return float(self._lambda[k])

    def order(self, k: int) -> int:
        """0 = final step (returns x0), 1 = first order, 2 = second order midpoint."""
        if k == self.steps - 1:
            return 0
        return 1 if k == 0 else 2

    # -- the update ---------------------------------------------------------------------------------
    def x0_from_v(self, k: int, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """v-prediction → data prediction: x0 = α_k·x − s_k·v."""
        return self._alpha[k] * x - self._s[k] * v

    def step(
        self,
        k: int,
        x: torch.Tensor,
        x0: torch.Tensor,
        x0_prev: torch.Tensor | None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One solver step from σ_k to σ_{k+1} given the data predictions of steps k and k−1."""
        if k == self.steps - 1:
            return x0  # σ_N = 0: exp(−h) = 0, the sample collapses to x0 (written out to avoid inf/NaN)
        x = x.to(torch.float32)
        a_t, s_t, s_s = self._alpha[k + 1], self._s[k + 1], self._s[k]
        h = self._lambda[k + 1] - self._lambda[k]
        d = x0
        if k > 0:
            assert x0_prev is not None, "second-order step needs the previous x0"
            r = (self._lambda[k] - self._lambda[k - 1]) / h
            d1 = (1.0 / r) * (x0 - x0_prev)
        if self.solver == "ode":
            phi = a_t * (torch.exp(-h) - 1.0)
            out = (s_t / s_s) * x - phi * d
            if k > 0:
                out = out - 0.5 * phi * d1
            return out
        if noise is None:
            raise ValueError(f"SDE solver step {k} needs noise")
        phi = a_t * (1 - torch.exp(-2.0 * h))
        out = (s_t / s_s * torch.exp(-h)) * x + phi * d
        if k > 0:
            out = out + 0.5 * phi * d1
        return out + s_t * torch.sqrt(1.0 - torch.exp(-2 * h)) * noise.to(torch.float32)

    def coefficients(self, k: int) -> StepCoefficients:
        """The linear form of `step` in float64 (from the float32 σ table), for tests and fixtures."""
        if k == self.steps - 1:
            return StepCoefficients(0.0, 1.0, 0.0, 0.0)
        sig = self.sigmas.astype(np.float64)
        alpha = 1 / np.sqrt(sig**2 + 1)
        s = sig * alpha
        lam = np.log(alpha[: self.steps]) - np.log(s[: self.steps])
        lam_next = math.log(alpha[k + 1]) - math.log(s[k + 1])
        h = lam_next - lam[k]
        if self.solver == "ode":
            c_x, phi, c_noise = s[k + 1] / s[k], -alpha[k + 1] * math.expm1(-h), 0.0
        else:
            c_x = s[k + 1] / s[k] * math.exp(-h)
            phi = alpha[k + 1] * -math.expm1(-2 * h)
            c_noise = s[k + 1] * math.sqrt(-math.expm1(-2 * h))
        if k == 0:
            return StepCoefficients(c_x, phi, 0.0, c_noise)
        r = (lam[k] - lam[k - 1]) / h
        return StepCoefficients(c_x, phi * (1 + 0.5 / r), -phi * 0.5 / r, c_noise)

    def sample(
        self,
        v_fn: Callable[[torch.Tensor, float], torch.Tensor],
        x: torch.Tensor,
        step_noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Run all steps from the initial noise `x`. `v_fn(x, t)` returns the (guided) v-prediction at
        timestep `t` (a float). `step_noise[k]` is the SDE noise of step k (k = 0..N−2; ignored by ODE)."""
        if self.solver == "sde" and self.steps > 1:
            if step_noise is None or step_noise.shape[0] < self.steps - 1:
                raise ValueError(f"SDE sampling with {self.steps} steps needs {self.steps - 1} noise rows")
        x0_prev = None
        for k, t in enumerate(self.timesteps.tolist()):
            x0 = self.x0_from_v(k, x, v_fn(x, float(t)))
            noise = step_noise[k] if (self.solver == "sde" and k < self.steps - 1) else None
            x = self.step(k, x, x0, x0_prev, noise)
            x0_prev = x0
        return x
