# SPDX-License-Identifier: Apache-2.0
"""Write ``snntorch_golden.npz``: snnTorch's own ``Leaky`` and ``Synaptic`` traces, in float32.

The float models of :mod:`neurotile.neurons.cuba_lif`, :mod:`neurotile.neurons.integrate_fire`
and :mod:`neurotile.neurons.leaky_integrator` are tested against this file; snnTorch is not a
dependency of the kit, so the file is committed and this script is only rerun by hand, in an
environment that has snnTorch::

    python3.11 -m venv /tmp/snn && /tmp/snn/bin/pip install torch snntorch numpy
    /tmp/snn/bin/python tests/data/make_snntorch_golden.py

Every neuron (column) has its own ``beta``, ``alpha`` and ``threshold`` (snnTorch takes
per-neuron tensors), so one run per reset mode covers several settings, ``beta = 1`` (IF) and
``alpha = 0`` included. The input mixes small currents of both signs with bursts that drive the
membrane past twice the threshold. Keys: ``input``; ``leaky_beta``, ``leaky_threshold``,
``synaptic_alpha``, ``synaptic_beta``, ``synaptic_threshold``; per mode
``leaky_<reset>_<delay>_{mem,spk}`` and ``synaptic_<reset>_<delay>_{syn,mem,spk}`` with
``<reset>`` in subtract/zero/none and ``<delay>`` in delay/nodelay (``reset_delay`` True/False);
``snntorch_version``, ``torch_version``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import snntorch
import torch

STEPS = 300
SEED = 2026
OUT = Path(__file__).with_name("snntorch_golden.npz")

BETA = np.array([0.9, 0.8, 0.95, 1.0, 0.5, 0.0], np.float32)
ALPHA = np.array([0.8, 0.9, 0.5, 0.0, 0.95, 1.0], np.float32)
THRESHOLD = np.array([1.0, 0.5, 2.0, 1.0, 0.25, 1.5], np.float32)
RESETS = ("subtract", "zero", "none")
DELAYS = {"delay": True, "nodelay": False}


def stimulus(rng: np.random.Generator) -> np.ndarray:
    """Input currents ``[STEPS, neurons]``: small values of both signs plus sparse bursts."""
    n = BETA.size
    base = rng.normal(0.25, 0.5, (STEPS, n))
    bursts = np.where(rng.random((STEPS, n)) < 0.05, 3.0, 0.0)
    return (base + bursts).astype(np.float32)


def run(layer: torch.nn.Module, x: np.ndarray, synaptic: bool) -> dict[str, np.ndarray]:
    """Step ``layer`` through ``x`` from the zero state; return its traces."""
    inp = torch.from_numpy(x)
    n = x.shape[1]
    mem = torch.zeros(n)
    syn = torch.zeros(n)
    out: dict[str, list[np.ndarray]] = {"syn": [], "mem": [], "spk": []}
    with torch.no_grad():
        for t in range(x.shape[0]):
            if synaptic:
                spk, syn, mem = layer(inp[t], syn, mem)
                out["syn"].append(syn.numpy().copy())
            else:
                spk, mem = layer(inp[t], mem)
            out["mem"].append(mem.numpy().copy())
            out["spk"].append(spk.numpy().astype(np.uint8))
    return {k: np.stack(v) for k, v in out.items() if v}


def main() -> None:
    rng = np.random.default_rng(SEED)
    x = stimulus(rng)
    data: dict[str, np.ndarray] = {
        "input": x, "leaky_beta": BETA, "leaky_threshold": THRESHOLD,
        "synaptic_alpha": ALPHA, "synaptic_beta": BETA, "synaptic_threshold": THRESHOLD,
        "snntorch_version": np.array(snntorch.__version__),
        "torch_version": np.array(torch.__version__),
    }
    for reset in RESETS:
        for tag, delay in DELAYS.items():
            leaky = snntorch.Leaky(beta=torch.from_numpy(BETA),
                                   threshold=torch.from_numpy(THRESHOLD),
                                   reset_mechanism=reset, reset_delay=delay)
            for k, v in run(leaky, x, synaptic=False).items():
                data[f"leaky_{reset}_{tag}_{k}"] = v
            synaptic = snntorch.Synaptic(alpha=torch.from_numpy(ALPHA),
                                         beta=torch.from_numpy(BETA),
                                         threshold=torch.from_numpy(THRESHOLD),
                                         reset_mechanism=reset, reset_delay=delay)
            for k, v in run(synaptic, x, synaptic=True).items():
                data[f"synaptic_{reset}_{tag}_{k}"] = v
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) with snnTorch {snntorch.__version__}, "
          f"torch {torch.__version__}")


if __name__ == "__main__":
    main()
