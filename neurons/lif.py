# SPDX-License-Identifier: Apache-2.0
"""Leaky integrate-and-fire reference models.

Two models live here:

* a float model of the discrete-time LIF that deep-learning SNN libraries use, with the modes of
  snnTorch's ``Leaky`` (reset by subtraction, to zero or none; with and without ``reset_delay``)
  and forward Euler of NIR's continuous-time ``LIF`` node;
* an integer model that mirrors :class:`neurotile.rtl.lif.LIFPopulation` bit for bit.

Both are vectorised over neurons: state and inputs are NumPy arrays of shape ``(neurons,)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurotile.neurons.spec import (Field, NeuronConfig, Param, Setting, as_float, as_int,
                                    checked_currents, run_model)

__all__ = [
    "LeakyParams",
    "leaky_step",
    "leaky_f32_step",
    "leaky_run",
    "NIRLIFParams",
    "nir_lif_step",
    "LIFIntParams",
    "MODEL",
    "LIFIntState",
    "lif_int_step",
    "lif_int_run",
]


# -- float models ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeakyParams:
    """snnTorch ``Leaky`` conventions.

    ``beta``: membrane decay per step (dimensionless, 0..1). ``threshold``: firing threshold
    (membrane units). ``reset``: ``"subtract"`` (snnTorch default), ``"zero"`` or ``"none"``.
    ``reset_delay``: snnTorch's default ``True`` applies a spike's reset on the next step; ``False``
    applies it in the step the spike fires.
    """

    beta: float
    threshold: float = 1.0
    reset: str = "subtract"
    reset_delay: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], not {self.beta}")
        if self.reset not in ("subtract", "zero", "none"):
            raise ValueError(f"reset must be 'subtract', 'zero' or 'none', not {self.reset!r}")


def leaky_step(mem: np.ndarray, current: np.ndarray, p: LeakyParams) -> tuple[np.ndarray, np.ndarray]:
    """Advance snnTorch ``Leaky`` by one step; return ``(mem, spikes)``.

    ``R = H(U[t-1] - theta)``; subtract: ``U = beta U + I - R theta``; zero:
    ``U = beta (1 - R) U + I``; none: ``U = beta U + I``; ``S = H(U[t] - theta)`` with ``H(x) = 1``
    for ``x > 0``. With ``reset_delay=False`` the reset of ``S`` is also applied to ``U[t]``.
    """
    mem = np.asarray(mem, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    r = (mem > p.threshold).astype(np.float64) if p.reset_delay else 0.0
    if p.reset == "subtract":
        new = p.beta * mem + current - r * p.threshold
    elif p.reset == "zero":
        new = p.beta * (1.0 - r) * mem + current
    else:
        new = p.beta * mem + current
    spikes = new > p.threshold
    if not p.reset_delay and p.reset != "none":
        new = np.where(spikes, new - p.threshold if p.reset == "subtract" else 0.0, new)
    return new, spikes


def _heaviside(x: np.ndarray) -> np.ndarray:
    """snnTorch's forward spike function: 1.0 where ``x > 0`` (float32)."""
    return (x > 0).astype(np.float32)


def leaky_f32_step(mem: np.ndarray, current: np.ndarray,
                   p: LeakyParams) -> tuple[np.ndarray, np.ndarray]:
    """Advance snnTorch ``Leaky`` by one step in float32, as snnTorch orders its operations.

    ``R = H(U - theta)`` from the stored membrane, always; subtract: ``V = (beta U + I) -
    R theta``; zero: ``V = beta ((1 - R) U) + I``; none: ``V = beta U + I``; ``S = H(V -
    theta)``; with ``reset_delay=False`` snnTorch cancels the delayed reset and applies the
    new one: subtract ``U' = V - (S - R) theta``, zero ``U' = V - (S - R) V``
    (:mod:`neurotile.neurons.integrate_fire` explains where that differs from
    :func:`leaky_step`).

    Parameters
    ----------
    mem : ndarray
        The stored membrane (any shape; computed in float32).
    current : ndarray
        Input current of the step, same shape.
    p : LeakyParams
        ``beta``, ``threshold``, ``reset``, ``reset_delay`` (snnTorch's names and defaults).

    Returns
    -------
    mem, spikes : ndarray
        The new membrane (float32) and the spikes (bool).
    """
    u = np.asarray(mem, np.float32)
    x = np.asarray(current, np.float32)
    beta, th = np.float32(p.beta), np.float32(p.threshold)
    r = _heaviside(u - th)
    if p.reset == "subtract":
        v = (beta * u + x) - r * th
    elif p.reset == "zero":
        v = beta * ((np.float32(1) - r) * u) + x
    else:
        v = beta * u + x
    s = _heaviside(v - th)
    if not p.reset_delay:
        undo = s - r
        if p.reset == "subtract":
            v = v - undo * th
        elif p.reset == "zero":
            v = v - undo * v
    return v, s > 0


def leaky_run(currents: np.ndarray, p: LeakyParams) -> dict[str, np.ndarray]:
    """Run snnTorch ``Leaky`` (:func:`leaky_f32_step`) from zero over ``currents``
    (``[steps, neurons]``); return ``spikes`` (bool) and ``membrane`` (float32) per step."""
    x = np.asarray(currents, np.float32)
    mem = np.zeros(x.shape[1:], np.float32)
    out = {"spikes": np.empty(x.shape, bool), "membrane": np.empty(x.shape, np.float32)}
    for t in range(x.shape[0]):
        mem, out["spikes"][t] = leaky_f32_step(mem, x[t], p)
        out["membrane"][t] = mem
    return out


@dataclass(frozen=True)
class NIRLIFParams:
    """NIR ``LIF`` node: ``tau dv/dt = (v_leak - v) + r I``; spike when ``v > v_threshold``.

    ``tau`` and ``dt`` in seconds, ``r`` in membrane units per input unit, voltages in membrane
    units.
    """

    tau: float
    r: float
    v_leak: float = 0.0
    v_threshold: float = 1.0
    v_reset: float = 0.0

    @classmethod
    def from_leaky(cls, beta: float, threshold: float = 1.0, dt: float = 1e-4) -> NIRLIFParams:
        """The node snnTorch exports for ``Leaky(beta)``: ``tau = dt/(1-beta)``, ``r = tau/dt``."""
        tau = dt / (1.0 - beta)
        return cls(tau=tau, r=tau / dt, v_threshold=threshold)


def nir_lif_step(
    v: np.ndarray, current: np.ndarray, p: NIRLIFParams, dt: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Advance NIR's LIF by one forward-Euler step of ``dt`` seconds; return ``(v, spikes)``."""
    v = np.asarray(v, dtype=np.float64)
    v = v + dt / p.tau * ((p.v_leak - v) + p.r * np.asarray(current, dtype=np.float64))
    spikes = v > p.v_threshold
    return np.where(spikes, p.v_reset, v), spikes


# -- integer model of the hardware -------------------------------------------------------------

def _shift(c: LIFIntParams) -> bool:
    return c.leak == "shift"


class LIFIntParams(NeuronConfig):
    """The hardware LIF population: structure and run-time settings (see :mod:`neurons.spec`).

    Structural parameters: ``neurons``; ``width``, membrane bits (two's complement);
    ``input_width``, input current bits (two's complement); ``leak``, ``"shift"``
    (``beta = 1 - 2**-k``) or ``"multiply"`` (``beta = b / 2**beta_bits``); ``beta_bits``,
    fraction bits of ``b``; ``refractory_width``, bits of the per-neuron refractory counter
    (0 removes it); ``reset``, ``"subtract"`` or ``"zero"``; ``reset_delay``, as snnTorch (see
    :func:`lif_int_step`).

    Run-time settings (ports of the hardware; left out, they scale with the structure):
    ``threshold`` in membrane units, ``0 <= threshold < 2**(width-1)`` (default
    ``2**(width-2)``); ``decay``, the leak: ``k`` in shift mode (``1 <= k < width``, default
    ``min(3, width-1)``) or ``b`` in multiply mode (``1 <= b < 2**beta_bits``, default
    ``round(0.875 * 2**beta_bits)``); ``refractory``, steps a neuron ignores its input after a
    spike, ``0 <= refractory < 2**refractory_width`` (default 0).
    """

    NAME = "lif"
    TITLE = "leaky integrate-and-fire"
    PARAMS = (
        Param("width", int, 8, "membrane bits, two's complement", low=2, high=32),
        Param("input_width", int, 8, "input current bits, two's complement", low=1, high=32),
        Param("leak", str, "shift", "leak by arithmetic shift, U - (U >> k), or by fixed-point "
              "multiply, (U * b) >> beta_bits", choices=("shift", "multiply")),
        Param("beta_bits", int, 8, "fraction bits of the multiply leak's b", low=1, high=16),
        Param("refractory_width", int, 2, "bits of the refractory counter (0 removes it)",
              low=0, high=8),
        Param("reset", str, "subtract", "reset after a spike", choices=("subtract", "zero")),
        Param("reset_delay", bool, True,
              "apply the reset on the step after the spike (snnTorch's default)"),
    )
    SETTINGS = (
        Setting("threshold", "firing threshold: a neuron fires when its membrane exceeds it",
                field=lambda c: Field("threshold", c.width - 1),
                default=lambda c: 1 << (c.width - 2), unit="membrane units",
                explain=lambda c: f"for a {c.width}-bit membrane"),
        Setting("decay", "leak: k of U - (U >> k) (shift) or b of (U * b) >> beta_bits "
                "(multiply)",
                field=lambda c: Field("decay", c.decay_width),
                default=lambda c: min(3, c.width - 1) if _shift(c)
                else round(0.875 * (1 << c.beta_bits)),
                low=lambda c: 1,
                high=lambda c: c.width - 1 if _shift(c) else (1 << c.beta_bits) - 1,
                explain=lambda c: f"(beta = 1 - 2**-k in (0, 1)) for a {c.width}-bit membrane"
                if _shift(c) else f"(beta = b / 2**{c.beta_bits} in (0, 1))"),
        Setting("refractory", "steps a neuron ignores its input after a spike",
                field=lambda c: Field("refractory", c.refractory_width),
                default=lambda c: 0, when=lambda c: c.refractory_width > 0, unit="steps",
                explain=lambda c: f"for a {c.refractory_width}-bit counter"),
    )

    #: The float model's options (``neurotile model lif --float``): snnTorch ``Leaky``'s, with
    #: its defaults; ``beta`` defaults to the hardware's default leak (``k = 3``).
    FLOAT_PARAMS = (
        Param("beta", float, 0.875, "membrane decay per step (snnTorch beta)", low=0.0,
              high=1.0, metavar="B"),
        Param("threshold", float, 1.0, "firing threshold (membrane units)", metavar="TH"),
        Param("reset", str, "subtract", "reset after a spike (snnTorch reset_mechanism)",
              choices=("subtract", "zero", "none")),
        Param("reset_delay", bool, True, "apply the reset on the step after the spike "
              "(snnTorch reset_delay)"),
    )

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """snnTorch ``Leaky`` in float32 (:func:`leaky_run`); ``options`` as
        :data:`FLOAT_PARAMS`."""
        return leaky_run(currents, LeakyParams(**options))

    def float_equivalent(self) -> dict[str, Any]:
        """snnTorch ``Leaky`` with this configuration's ``beta``, threshold and reset (membrane
        units; the refractory counter has no float counterpart)."""
        return self.float_options(beta=self.beta, threshold=float(self.threshold),
                                  reset=self.reset, reset_delay=self.reset_delay)

    # Fields ------------------------------------------------------------------------------------
    def input_field(self) -> Field:
        return Field("current", self.input_width, True)

    def state_fields(self) -> tuple[Field, ...]:
        fields = (Field("membrane", self.width, True, "membrane U"),)
        if self.refractory_width:
            fields += (Field("countdown", self.refractory_width, False,
                             "refractory steps left"),)
        return fields

    def output_fields(self) -> tuple[Field, ...]:
        return (Field("spike", 1, False, "the neuron fired"),
                Field("membrane", self.width, True, "membrane after the step (and any "
                      "same-step reset)"))

    # Derived ranges ----------------------------------------------------------------------------
    @property
    def mem_min(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def mem_max(self) -> int:
        return (1 << (self.width - 1)) - 1

    @property
    def refractory_max(self) -> int:
        return (1 << self.refractory_width) - 1

    @property
    def decay_width(self) -> int:
        """Bits of the ``decay`` port: ``k`` (shift) or ``b`` (multiply)."""
        if self.leak == "shift":
            return max(1, (self.width - 1).bit_length())
        return self.beta_bits

    @property
    def beta(self) -> float:
        """The decay factor the run-time ``decay`` setting stands for."""
        if self.leak == "shift":
            return 1.0 - 2.0 ** -self.decay
        return self.decay / (1 << self.beta_bits)

    @classmethod
    def from_beta(cls, beta: float, **kwargs: Any) -> LIFIntParams:
        """Multiply-mode parameters whose ``decay`` is ``beta`` rounded to ``beta_bits``."""
        beta = as_float(beta, "beta")
        if not 0.0 < beta < 1.0:
            raise ValueError(f"beta must be in the open interval (0, 1), not {beta}")
        leak = kwargs.get("leak", "multiply")
        if leak != "multiply":
            raise ValueError(f"beta selects the multiply leak; leak must be 'multiply', "
                             f"not {leak!r}")
        if kwargs.get("decay") is not None:
            raise TypeError("give beta or decay, not both")
        bits = as_int(kwargs.get("beta_bits", 8), "beta_bits")
        code = int(round(beta * (1 << bits)))
        if 1 <= bits <= 16 and not 1 <= code < (1 << bits):
            step = 1 / (1 << bits)
            raise ValueError(
                f"beta {beta:g} rounds to {code}/2**{bits} with beta_bits {bits}, outside "
                f"(0, 1); with {bits} bits beta must lie in [{step / 2:.6g}, "
                f"{1 - step / 2:.6g}); give more beta_bits or another beta")
        return cls(**(kwargs | {"leak": "multiply", "decay": code}))

    # The model ---------------------------------------------------------------------------------
    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        mem = state["membrane"]
        th, lk = settings["threshold"], settings["decay"]
        if self.leak == "shift":
            leaked = mem - (mem >> lk)
        else:
            leaked = (mem * lk) >> self.beta_bits
        refr = state.get("countdown")
        active = np.ones(mem.shape, bool) if refr is None else refr == 0
        v = leaked
        if self.reset_delay:
            r = mem > th
            if self.reset == "subtract":
                v = v - r * th
            else:
                v = np.where(r, 0, v)
        v = v + current * active
        v = np.clip(v, self.mem_min, self.mem_max)
        spikes = active & (v > th)
        if not self.reset_delay:
            v = np.where(spikes, v - th if self.reset == "subtract" else 0, v)
        new = {"membrane": v}
        if refr is not None:
            new["countdown"] = np.where(spikes, settings["refractory"],
                                        np.where(active, 0, refr - 1))
        return new, {"spike": spikes, "membrane": v}

    def directed(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Saturation both ways, the strict threshold edge, maximal refractoriness."""
        n = self.neurons
        lo, hi = self.input_min, self.input_max
        out = []
        sat = 2 * ((self.mem_max - self.mem_min) // max(1, hi) + 2)
        # Nothing can fire above the maximum threshold while the membrane saturates.
        for value in (hi, lo):
            out.append({"current": np.full((sat, n), value), "threshold": self.mem_max,
                        "reset_after": True})
        edge = min(self.threshold, hi - 1)
        if edge >= 0:  # from the reset state: v == th must not fire, v == th + 1 must
            out.append({"current": np.where(np.arange(n) % 2 == 0, edge, edge + 1)[None, :],
                        "threshold": edge, "reset_after": True})
        if self.refractory_width:
            out.append({"current": np.full((12, n), hi), "refractory": self.refractory_max,
                        "threshold": max(0, min(self.threshold, hi // 2))})
        return out


MODEL = LIFIntParams


@dataclass
class LIFIntState:
    """Per-neuron state held by the hardware: membrane and refractory counter (int64 arrays)."""

    mem: np.ndarray
    refr: np.ndarray = field(default=None)  # type: ignore[assignment]

    @classmethod
    def zeros(cls, neurons: int) -> LIFIntState:
        """The state the hardware holds after reset."""
        return cls(np.zeros(neurons, np.int64), np.zeros(neurons, np.int64))

    def copy(self) -> LIFIntState:
        return LIFIntState(self.mem.copy(), self.refr.copy())

    def as_state(self, p: LIFIntParams) -> dict[str, np.ndarray]:
        out = {"membrane": self.mem}
        if p.refractory_width:
            out["countdown"] = self.refr
        return out


def _settings(p: LIFIntParams, threshold: Any, decay: Any, refractory: Any) -> dict[str, Any]:
    return {"threshold": p.threshold if threshold is None else threshold,
            "decay": p.decay if decay is None else decay,
            "refractory": p.refractory if refractory is None else refractory}


def lif_int_step(
    state: LIFIntState,
    current: np.ndarray,
    p: LIFIntParams,
    *,
    threshold: int | None = None,
    decay: int | None = None,
    refractory: int | None = None,
) -> tuple[LIFIntState, np.ndarray]:
    """Advance the integer LIF by one step, exactly as the hardware does; return ``(state, spikes)``.

    With ``th`` the threshold and ``U`` the stored membrane of each neuron::

        R      = U > th                      if reset_delay else 0     # delayed reset
        L      = U - (U >> k)                (shift; >> is arithmetic, rounds toward -inf)
               = (U * b) >> beta_bits        (multiply)
        active = refractory counter == 0
        I'     = I if active else 0
        subtract: v = sat(L + I' - R*th)     zero: v = sat((0 if R else L) + I')
        S      = active and v > th
        U'     = v, or with reset_delay=False: v - th (subtract) / 0 (zero) where S
        counter' = refractory if S else (0 if active else counter - 1)

    ``sat`` clamps once, to the membrane range, after the whole sum is formed at full width.
    ``threshold``, ``decay`` and ``refractory`` override the run-time settings of ``p`` (they
    are ports of the hardware and may change between steps); ``decay`` is ``k`` or ``b`` by mode.
    """
    cur = checked_currents(p, current, state.mem.shape)
    new, out = p.step(state.as_state(p), cur, _settings(p, threshold, decay, refractory))
    refr = new.get("countdown", state.refr)
    return LIFIntState(new["membrane"], refr), out["spike"]


def lif_int_run(
    p: LIFIntParams,
    currents: np.ndarray,
    *,
    state: LIFIntState | None = None,
    threshold: np.ndarray | None = None,
    decay: np.ndarray | None = None,
    refractory: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, LIFIntState]:
    """Run ``currents`` (shape ``(steps, neurons)``); return ``(membranes, spikes, final_state)``.

    ``membranes`` and ``spikes`` have the shape of ``currents`` and hold the state after each step.
    ``threshold``, ``decay`` and ``refractory``, when given, are per-step run-time settings (shape
    ``(steps,)``).
    """
    start = LIFIntState.zeros(p.neurons) if state is None else state.copy()
    settings = {k: v for k, v in (("threshold", threshold), ("decay", decay),
                                  ("refractory", refractory)) if v is not None}
    out, final = run_model(p, currents, state=start.as_state(p), settings=settings)
    refr = final.get("countdown", start.refr)
    return out["membrane"], out["spike"], LIFIntState(final["membrane"], refr)
