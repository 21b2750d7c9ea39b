# SPDX-License-Identifier: Apache-2.0
"""A spiking reservoir (liquid state machine): a fixed random recurrent network from a seed.

A reservoir is a :class:`~neurotile.neurons.network.Network` of one recurrent LIF layer whose
weights nobody trains: :func:`reservoir_network` draws them from ``seed``, so the same
parameters give the same integer network, the same hardware and the same spikes on every
machine. Only a linear readout of the spikes is trained, offline
(:mod:`neurotile.neurons.readout`).

The distribution, drawn with ``numpy.random.default_rng(seed)`` in this order:

1. **Excitatory and inhibitory neurons** (Dale's law): ``round(excitatory * neurons)`` neurons,
   chosen by a random permutation, are excitatory (every outgoing recurrent weight positive),
   the rest inhibitory (every outgoing weight negative).
2. **Recurrent synapses**: each ordered pair ``i -> j`` with ``i != j`` is connected with
   probability ``density`` (no self-synapses); magnitudes are uniform in ``[0.5, 1)``.
   Inhibitory magnitudes are multiplied by ``n_exc / n_inh``, so a neuron's expected
   excitatory and inhibitory input balance (the mean recurrent weight is zero).
3. **Spectral scaling**: the float matrix is scaled so its spectral radius (largest
   eigenvalue modulus) is ``radius``, in units of the firing threshold. (A matrix with no
   non-zero eigenvalue, e.g. an empty one, is left as it is.)
4. **Input projection**: each ``input -> neuron`` synapse exists with probability
   ``input_density``, its sign is + or - with equal probability and its magnitude uniform in
   ``[0.5, 1)``, scaled so a full-scale input (``2**input_width - 1``) on a synapse of
   magnitude 1 adds ``input_gain`` thresholds to the membrane.
5. **Quantisation**: every weight, in threshold units, is multiplied by the integer
   ``threshold``, rounded to the nearest integer (halves away from zero) and clipped to the
   signed ``weight_width`` range; weights that round to 0 are dropped (the sparse tile stores
   only non-zero weights). :func:`quantisation` counts what was clipped and dropped.

The float intuition. In threshold units a reservoir neuron is ``u <- beta u + sum_i w_i s_i +
sum_k v_k x_k``, spiking (and subtracting 1) when ``u > 1``, with ``beta = 1 - 2**-decay``.
Linearised around a firing rate, activity propagates through the recurrent matrix ``W``:
with a spectral radius well below 1 a perturbation dies out within a few steps (short memory,
quiet network); near 1 it echoes longest (the "edge of chaos", the longest fading memory);
above 1 activity sustains itself and forgets the input. The leak adds its own memory of about
``2**decay`` steps per neuron. The integer network is this float network with weights rounded
to ``1/threshold`` and membranes saturating at ``width`` bits; :func:`float_weights` gives the
float matrices before rounding.

The hardware constants: the accumulators are just wide enough (:func:`accumulator_width`)
that no partial sum of a step can saturate, so the integer current is the exact weighted sum;
the membrane saturates at ``width`` bits (it is the LIF model's ``sat``). The neurons reset by
subtraction in the step they fire (no reset delay), without refractory period or bias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurotile.neurons.lif import LIFIntParams
from neurotile.neurons.network import Layer, Network, NetworkRun, run_network
from neurotile.neurons.synapses import CSRMatrix, SparseParams

__all__ = ["ReservoirParams", "float_weights", "integer_weights", "quantisation",
           "accumulator_width", "reservoir_network", "run_reservoir", "reservoir_spikes"]


@dataclass(frozen=True)
class ReservoirParams:
    """A reservoir's structure and the seed of its weights.

    Parameters
    ----------
    neurons : int
        Reservoir neurons ``N`` (2 to 1024).
    inputs : int
        Input channels (1 to 256).
    density : float
        Probability of a recurrent synapse ``i -> j``, ``i != j`` (0 to 1).
    input_density : float
        Probability of an input synapse ``input -> neuron`` (0 to 1).
    excitatory : float
        Fraction of excitatory neurons (0 to 1).
    radius : float
        Spectral radius of the float recurrent matrix, in thresholds (0 to 4).
    input_gain : float
        Thresholds a full-scale input adds through a synapse of magnitude 1 (0 to 8).
    input_width : int
        Bits of an unsigned input value; 1 for binary spikes (1 to 8).
    weight_width : int
        Bits of a signed integer weight (2 to 16).
    width : int
        Bits of a membrane, two's complement (4 to 24).
    threshold : int
        Firing threshold in membrane units: one threshold in weights (1 to ``2**(width-1)-1``).
    decay : int
        Leak shift ``k``: ``beta = 1 - 2**-k`` (1 to ``width - 1``).
    count_width : int
        Bits of the per-neuron spike counters of the hardware's end-of-sample readout (1 to 16).
    seed : int
        The weights' seed (0 or more).
    """

    neurons: int = 64
    inputs: int = 8
    density: float = 0.1
    input_density: float = 0.5
    excitatory: float = 0.8
    radius: float = 0.9
    input_gain: float = 1.0
    input_width: int = 4
    weight_width: int = 8
    width: int = 10
    threshold: int = 128
    decay: int = 2
    count_width: int = 4
    seed: int = 1

    def __post_init__(self) -> None:
        ints = {"neurons": (2, 1024), "inputs": (1, 256), "input_width": (1, 8),
                "weight_width": (2, 16), "width": (4, 24), "count_width": (1, 16),
                "seed": (0, 2**63 - 1)}
        for name, (lo, hi) in ints.items():
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise TypeError(f"{name} must be an integer, not {value!r}")
            if not lo <= value <= hi:
                raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")
        floats = {"density": (0.0, 1.0), "input_density": (0.0, 1.0),
                  "excitatory": (0.0, 1.0), "radius": (0.0, 4.0), "input_gain": (0.0, 8.0)}
        for name, (lo, hi) in floats.items():
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.integer, np.floating)) \
                    or isinstance(value, bool):
                raise TypeError(f"{name} must be a number, not {value!r}")
            if not lo <= float(value) <= hi:
                raise ValueError(f"{name} must be between {lo:g} and {hi:g}, not {value}")
        top = (1 << (self.width - 1)) - 1
        if not isinstance(self.threshold, (int, np.integer)) or isinstance(self.threshold, bool):
            raise TypeError(f"threshold must be an integer, not {self.threshold!r}")
        if not 1 <= self.threshold <= top:
            raise ValueError(f"threshold must be between 1 and {top} for a {self.width}-bit "
                             f"membrane, not {self.threshold}")
        if not isinstance(self.decay, (int, np.integer)) or isinstance(self.decay, bool):
            raise TypeError(f"decay must be an integer, not {self.decay!r}")
        if not 1 <= self.decay <= self.width - 1:
            raise ValueError(f"decay must be between 1 and {self.width - 1} for a "
                             f"{self.width}-bit membrane, not {self.decay}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def in_max(self) -> int:
        return (1 << self.input_width) - 1


# -- the seeded generator -----------------------------------------------------------------------

def float_weights(p: ReservoirParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(w_in, w_rec, excitatory)``: the float weights in threshold units, before rounding.

    ``w_in``: ``[inputs, neurons]`` (per unit of input value); ``w_rec``: ``[neurons, neurons]``,
    row = presynaptic neuron; ``excitatory``: bool ``[neurons]``. Steps 1-4 of the module's
    distribution, from ``default_rng(seed)``.
    """
    rng = np.random.default_rng(p.seed)
    n = p.neurons
    n_exc = int(round(p.excitatory * n))
    exc = rng.permutation(n) < n_exc
    mask = rng.random((n, n)) < p.density
    np.fill_diagonal(mask, False)
    mag = rng.uniform(0.5, 1.0, (n, n))
    gain = n_exc / (n - n_exc) if 0 < n_exc < n else 1.0
    sign = np.where(exc, 1.0, -gain)[:, None]
    w_rec = np.where(mask, mag * sign, 0.0)
    rho = float(np.max(np.abs(np.linalg.eigvals(w_rec)))) if n else 0.0
    if rho > 1e-12:
        w_rec = w_rec * (p.radius / rho)
    in_mask = rng.random((p.inputs, n)) < p.input_density
    in_sign = np.where(rng.random((p.inputs, n)) < 0.5, 1.0, -1.0)
    in_mag = rng.uniform(0.5, 1.0, (p.inputs, n))
    w_in = np.where(in_mask, in_sign * in_mag * (p.input_gain / p.in_max), 0.0)
    return w_in, w_rec, exc


def _quantise(w: np.ndarray, p: ReservoirParams) -> np.ndarray:
    lo, hi = -(1 << (p.weight_width - 1)), (1 << (p.weight_width - 1)) - 1
    scaled = w * p.threshold
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded, lo, hi).astype(np.int64)


def integer_weights(p: ReservoirParams) -> tuple[np.ndarray, np.ndarray]:
    """``(w_in, w_rec)``: the integer weights of the hardware (step 5 of the distribution)."""
    w_in, w_rec, _ = float_weights(p)
    return _quantise(w_in, p), _quantise(w_rec, p)


def quantisation(p: ReservoirParams) -> dict[str, int]:
    """What rounding did: ``synapses`` drawn, ``kept`` (non-zero integer weights),
    ``dropped`` (rounded to 0) and ``clipped`` (beyond the weight range), over both matrices."""
    floats = float_weights(p)[:2]
    ints = integer_weights(p)
    hi = (1 << (p.weight_width - 1)) - 1
    drawn = sum(int(np.count_nonzero(f)) for f in floats)
    kept = sum(int(np.count_nonzero(i)) for i in ints)
    clipped = sum(int(np.count_nonzero(np.abs(f * p.threshold) > hi + 0.5)) for f in floats)
    return {"synapses": drawn, "kept": kept, "dropped": drawn - kept, "clipped": clipped}


def accumulator_width(p: ReservoirParams, w_in: np.ndarray, w_rec: np.ndarray) -> int:
    """Bits of an accumulator no partial sum of a step can leave (at least ``weight_width``).

    The worst case of a neuron is every positive (or every negative) weight into it at once,
    input weights times the full-scale input.
    """
    full = np.vstack([w_in * p.in_max, w_rec])
    pos = np.maximum(full, 0).sum(axis=0).max(initial=0)
    neg = np.minimum(full, 0).sum(axis=0).min(initial=0)
    need = max(int(pos).bit_length() + 1, int(-neg - 1).bit_length() + 1 if neg < 0 else 1)
    return max(p.weight_width, need)


def reservoir_network(p: ReservoirParams) -> Network:
    """The integer network of the reservoir: one recurrent LIF layer named ``reservoir``.

    Rows ``0 .. inputs-1`` of its matrix are the input projection, rows ``inputs ..`` the
    recurrent weights (the layer's spikes of the previous step); the network's outputs are the
    reservoir's neurons, so the hardware's spike stream is the reservoir's spikes.
    """
    if not isinstance(p, ReservoirParams):
        raise TypeError(f"p must be ReservoirParams, not {p!r}")
    w_in, w_rec = integer_weights(p)
    acc = accumulator_width(p, w_in, w_rec)
    weights = CSRMatrix.from_dense(np.vstack([w_in, w_rec]))
    sp = SparseParams(inputs=p.inputs + p.neurons, outputs=p.neurons,
                      weight_width=p.weight_width, acc_width=acc, depth=max(1, weights.nnz),
                      act_width=p.input_width)
    cfg = LIFIntParams(neurons=p.neurons, width=p.width, input_width=acc, leak="shift",
                       refractory_width=0, reset="subtract", reset_delay=False,
                       threshold=p.threshold, decay=p.decay)
    layer = Layer("reservoir", weights, cfg, sp, recurrent=True)
    return Network((layer,), input_width=p.input_width, count_width=p.count_width)


def run_reservoir(p: ReservoirParams | Network, inputs: np.ndarray) -> NetworkRun:
    """Run ``inputs`` (ints ``[samples, steps, inputs]``) through the integer reservoir,
    exactly as the hardware does (:func:`~neurotile.neurons.network.run_network`)."""
    net = p if isinstance(p, Network) else reservoir_network(p)
    return run_network(net, inputs)


def reservoir_spikes(p: ReservoirParams | Network, inputs: np.ndarray) -> np.ndarray:
    """The reservoir's spikes, bool ``[samples, steps, neurons]``."""
    return run_reservoir(p, inputs).spikes[0]
