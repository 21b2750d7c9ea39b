# SPDX-License-Identifier: Apache-2.0
"""Integrate-and-fire (NIR ``IF``; snnTorch ``Leaky`` with ``beta = 1``) reference models.

* Float models: :func:`leaky_f32_step` (defined in :mod:`neurotile.neurons.lif`) reproduces
  snnTorch's ``Leaky`` in float32 operation for operation (every reset mechanism, with and
  without ``reset_delay``), so its ``beta = 1`` case (:func:`if_step`) is snnTorch's
  integrate-and-fire bit for bit; :func:`nir_if_step` is forward Euler of NIR's ``IF``,
  ``dv/dt = r I``, spike when ``v > v_threshold``, then ``v = v_reset``.
* The integer model of :class:`neurotile.rtl.integrate_fire.IFDatapath`, :class:`IFIntParams`:
  the LIF population's arithmetic (:class:`neurotile.neurons.lif.LIFIntParams`) without a leak.

snnTorch's ``Leaky`` step, from the stored membrane ``U`` (``H(x) = 1`` for ``x > 0``)::

    R = H(U - theta)                                   # from the previous step, always
    subtract: V = (beta U + I) - R theta;  zero: V = beta ((1 - R) U) + I;  none: V = beta U + I
    S = H(V - theta)
    reset_delay=False, subtract: U' = V - (S - R) theta;  zero: U' = V - (S - R) V;  none: U' = V

With ``reset_delay=False`` snnTorch keeps the delayed reset ``R`` and cancels it (its "avoid
double reset"); that differs from a plain same-step reset only when the stored membrane exceeds
the threshold, after a subtract reset from above twice the threshold. :func:`leaky_f32_step`
follows snnTorch there too. (:func:`neurotile.neurons.lif.leaky_step` is the float64 model with
the plain same-step reset.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# leaky_f32_step lives in neurotile.neurons.lif; it is imported from here too.
from neurotile.neurons.lif import LeakyParams, LIFIntParams, leaky_f32_step, leaky_run
from neurotile.neurons.spec import Field, NeuronConfig

__all__ = ["leaky_f32_step", "IFParams", "if_step", "NIRIFParams", "nir_if_step", "IFIntParams",
           "MODEL"]


# -- float models ------------------------------------------------------------------------------

@dataclass(frozen=True)
class IFParams:
    """snnTorch conventions of an integrate-and-fire neuron: ``Leaky`` with ``beta = 1``.

    ``threshold`` in membrane units; ``reset`` ``"subtract"`` (snnTorch's default), ``"zero"`` or
    ``"none"``; ``reset_delay`` as snnTorch (default ``True``).
    """

    threshold: float = 1.0
    reset: str = "subtract"
    reset_delay: bool = True

    @property
    def leaky(self) -> LeakyParams:
        """The snnTorch ``Leaky`` this neuron is (validated there)."""
        return LeakyParams(beta=1.0, threshold=self.threshold, reset=self.reset,
                           reset_delay=self.reset_delay)


def if_step(mem: np.ndarray, current: np.ndarray, p: IFParams) -> tuple[np.ndarray, np.ndarray]:
    """Advance snnTorch ``Leaky(beta=1)`` by one step (float32); return ``(mem, spikes)``."""
    return leaky_f32_step(mem, current, p.leaky)


@dataclass(frozen=True)
class NIRIFParams:
    """NIR ``IF`` node: ``dv/dt = r I``; spike when ``v > v_threshold``, then ``v = v_reset``.

    ``r`` in membrane units per input unit and second; voltages in membrane units.
    """

    r: float
    v_threshold: float = 1.0
    v_reset: float = 0.0

    @classmethod
    def from_leaky(cls, threshold: float = 1.0, dt: float = 1e-4) -> NIRIFParams:
        """The node of ``Leaky(beta=1)`` with input gain 1 per step: ``r = 1/dt``.

        snnTorch's importer reads an ``IF`` node per step instead, ``v += r I`` with ``r == 1``
        only: the same update as ``dt r = 1`` here.
        """
        return cls(r=1.0 / dt, v_threshold=threshold)


def nir_if_step(v: np.ndarray, current: np.ndarray, p: NIRIFParams,
                dt: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Advance NIR's ``IF`` by one forward-Euler step of ``dt`` seconds (float64);
    return ``(v, spikes)``."""
    v = np.asarray(v, np.float64) + dt * p.r * np.asarray(current, np.float64)
    spikes = v > p.v_threshold
    return np.where(spikes, p.v_reset, v), spikes


# -- integer model of the hardware -------------------------------------------------------------

def _lif_param(name: str) -> Any:
    return next(p for p in LIFIntParams.PARAMS if p.name == name)


class IFIntParams(NeuronConfig):
    """The hardware integrate-and-fire population (see :mod:`neurons.spec`).

    Structural parameters (the LIF population's, less the leak and the refractory counter):
    ``neurons``; ``width``, membrane bits (two's complement); ``input_width``, input current bits
    (two's complement); ``reset``, ``"subtract"`` or ``"zero"``; ``reset_delay``, as snnTorch.

    Run-time setting: ``threshold`` in membrane units, ``0 <= threshold < 2**(width-1)``
    (default ``2**(width-2)``).

    One step, for every value the ports can carry (``th`` the threshold, ``U`` the stored
    membrane)::

        R  = U > th                         if reset_delay else 0
        subtract: v = sat(U + I - R*th)     zero: v = sat((0 if R else U) + I)
        S  = v > th                         (strict, as snnTorch)
        U' = v, or with reset_delay=False: v - th (subtract) / 0 (zero) where S

    ``sat`` clamps once, to the membrane range, after the whole sum is formed at full width.
    No rounding happens (no leak). The outputs are ``spike`` and the membrane ``U'``.
    """

    NAME = "if"
    TITLE = "integrate-and-fire"
    PARAMS = tuple(_lif_param(n) for n in ("width", "input_width", "reset", "reset_delay"))
    SETTINGS = (LIFIntParams.setting("threshold"),)
    #: The float model's options: snnTorch ``Leaky(beta=1)``'s (:class:`IFParams`).
    FLOAT_PARAMS = tuple(p for p in LIFIntParams.FLOAT_PARAMS if p.name != "beta")

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """snnTorch ``Leaky(beta=1)`` in float32 (:func:`if_step`); ``spikes``, ``membrane``."""
        return leaky_run(currents, IFParams(**options).leaky)

    def float_equivalent(self) -> dict[str, Any]:
        """snnTorch ``Leaky(beta=1)`` with this configuration's threshold and reset."""
        return self.float_options(threshold=float(self.threshold), reset=self.reset,
                                  reset_delay=self.reset_delay)

    # Fields ------------------------------------------------------------------------------------
    def input_field(self) -> Field:
        return Field("current", self.input_width, True)

    def state_fields(self) -> tuple[Field, ...]:
        return (Field("membrane", self.width, True, "membrane U"),)

    def output_fields(self) -> tuple[Field, ...]:
        return (Field("spike", 1, False, "the neuron fired"),
                Field("membrane", self.width, True, "membrane after the step (and any "
                      "same-step reset)"))

    @property
    def mem_min(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def mem_max(self) -> int:
        return (1 << (self.width - 1)) - 1

    # The model ---------------------------------------------------------------------------------
    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        mem = state["membrane"]
        th = settings["threshold"]
        v = mem
        if self.reset_delay:
            r = mem > th
            v = v - r * th if self.reset == "subtract" else np.where(r, 0, v)
        v = np.clip(v + current, self.mem_min, self.mem_max)
        spikes = v > th
        if not self.reset_delay:
            v = np.where(spikes, v - th if self.reset == "subtract" else 0, v)
        return {"membrane": v}, {"spike": spikes, "membrane": v}

    def directed(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Saturation both ways, the strict threshold edge, a drive far above the threshold."""
        n = self.neurons
        lo, hi = self.input_min, self.input_max
        sat = 2 * ((self.mem_max - self.mem_min) // max(1, hi) + 2)
        out: list[dict[str, Any]] = [
            {"current": np.full((sat, n), value), "threshold": self.mem_max, "reset_after": True}
            for value in (hi, lo)]
        edge = min(self.threshold, hi - 1)
        if edge >= 0:  # from the reset state: v == th must not fire, v == th + 1 must
            out.append({"current": np.where(np.arange(n) % 2 == 0, edge, edge + 1)[None, :],
                        "threshold": edge, "reset_after": True})
        out.append({"current": np.full((sat, n), hi), "threshold": max(0, hi // 4),
                    "reset_after": True})
        return out


MODEL = IFIntParams
