"""Writes tests/data/scheduler/dpm_fixture.json: trajectories of diffusers' DPMSolverMultistepScheduler, the
independent oracle for src/generate/scheduler.cpp (C++ test: tests/cpp/test_scheduler.cpp).

The scheduler is configured exactly as architecture.md §3.7 says the official model does:
num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2" (the official "cosine"),
prediction_type="v_prediction", algorithm_type "dpmsolver++" (ode) or "sde-dpmsolver++" (sde),
everything else at diffusers' defaults.

Deterministic fake model (the C++ test evaluates the same formula in float64 and rounds to float32):
    v_j(x, t) = sum_i W[j][i] * x_i + 0.5 * cos(0.001 * t * (j + 1)),   j = 0..dim-1
with W, the initial sample x and the SDE noise (one row per step, passed to diffusers as variance_noise)
stored in the fixture as float32 values. Every run starts from the same x.

Fields: dim, W (row-major), x_init, and per case {solver, steps, timesteps, sigmas (diffusers' float32
table, steps+1 entries), noise (steps rows; sde only), trajectory (x after each step), final}.
Run: build/venv/bin/python tests/tools/make_scheduler_fixture.py   (diffusers 0.42.1, torch CPU)
"""
import json
import pathlib

import diffusers
import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "scheduler" / "dpm_fixture.json"
DIM = 16
STEPS = [1, 2, 3, 5, 10, 15, 20, 50]


def fake_model(W, x, t):
    x64 = x.astype(np.float64)
    j = np.arange(W.shape[0], dtype=np.float64)
    return (W.astype(np.float64) @ x64 + 0.5 * np.cos(0.001 * float(t) * (j + 1))).astype(np.float32)


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def main():
    rng = np.random.default_rng(20240601)
    W = (rng.standard_normal((DIM, DIM)) * (0.3 / np.sqrt(DIM))).astype(np.float32)
    x_init = rng.standard_normal(DIM).astype(np.float32)
    cases = []
    for solver, algorithm in (("ode", "dpmsolver++"), ("sde", "sde-dpmsolver++")):
        for steps in STEPS:
            sched = DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                                                prediction_type="v_prediction", algorithm_type=algorithm)
            sched.set_timesteps(steps)
            noise = rng.standard_normal((steps, DIM)).astype(np.float32) if solver == "sde" else None
            x = torch.from_numpy(x_init.copy())
            trajectory = []
            for k, t in enumerate(sched.timesteps):
                v = torch.from_numpy(fake_model(W, x.numpy(), int(t)))
                kwargs = {"variance_noise": torch.from_numpy(noise[k])} if noise is not None else {}
                x = sched.step(v, t, x, **kwargs).prev_sample
                assert x.dtype == torch.float32
                trajectory.append(floats(x.numpy()))
            case = {"solver": solver, "steps": steps, "timesteps": [int(t) for t in sched.timesteps],
                    "sigmas": floats(sched.sigmas.numpy()), "trajectory": trajectory, "final": trajectory[-1]}
            if noise is not None:
                case["noise"] = [floats(row) for row in noise]
            cases.append(case)
    fixture = {"generator": f"tests/tools/make_scheduler_fixture.py (diffusers {diffusers.__version__}, "
                            f"torch {torch.__version__})",
               "model": "v_j = sum_i W[j][i]*x_i + 0.5*cos(0.001*t*(j+1)), float64 then rounded to float32",
               "dim": DIM, "W": floats(W), "x_init": floats(x_init), "cases": cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
