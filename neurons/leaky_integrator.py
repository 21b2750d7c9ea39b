# SPDX-License-Identifier: Apache-2.0
"""Leaky integrator (NIR ``LI``) and integrator (NIR ``I``): a membrane that never fires.

The readout layer of most trained SNNs: the membrane itself is the output, compared across
neurons or read out as a value. Three models live here:

* float models: snnTorch's readout convention, ``Leaky(reset_mechanism="none")`` with its
  membrane as the output, reproduced in float32 exactly (:func:`li_step`); forward Euler of
  NIR's continuous-time ``LI`` node, ``tau dv/dt = (v_leak - v) + r I`` (:func:`nir_li_step`), and
  of NIR's integrator ``I``, ``dv/dt = r I`` (:func:`nir_i_step`);
* the integer model of :class:`neurotile.rtl.leaky_integrator.LIDatapath`,
  :class:`LIIntParams`: ``U' = sat(L(U) + I)`` with ``L`` a shift leak, a multiply leak, or no leak
  (the integrator).

The leak arithmetic is the LIF population's (:class:`neurotile.neurons.lif.LIFIntParams`): a leaky
integrator is a LIF neuron whose threshold sits at the top of the membrane range, where nothing
can exceed it, and the integer model is built that way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from neurotile.neurons.integrate_fire import leaky_f32_step
from neurotile.neurons.lif import (LeakyParams, LIFIntParams, NIRLIFParams, leaky_run,
                                   nir_lif_step)
from neurotile.neurons.spec import Field, NeuronConfig, Param, Setting

__all__ = ["li_step", "NIRLIParams", "nir_li_step", "NIRIParams", "nir_i_step", "LIIntParams",
           "decay_setting", "MODEL"]


# -- float models ------------------------------------------------------------------------------

def li_step(mem: np.ndarray, current: np.ndarray, beta: float) -> np.ndarray:
    """Advance snnTorch's readout ``Leaky(beta, reset_mechanism="none")`` by one step.

    ``U = beta U + I`` in float32, exactly as snnTorch computes it; returns the new membrane.
    ``beta = 1`` is the integrator.
    """
    new, _ = leaky_f32_step(mem, current, LeakyParams(beta=beta, reset="none"))
    return new


@dataclass(frozen=True)
class NIRLIParams:
    """NIR ``LI`` node: ``tau dv/dt = (v_leak - v) + r I``.

    ``tau`` in seconds; ``r`` in membrane units per input unit; ``v_leak`` in membrane units.
    """

    tau: float
    r: float
    v_leak: float = 0.0

    @classmethod
    def from_beta(cls, beta: float, dt: float = 1e-4) -> NIRLIParams:
        """The node of ``U = beta U + I`` in snnTorch's export mapping: ``tau = dt/(1-beta)``,
        ``r = tau/dt``."""
        tau = dt / (1.0 - beta)
        return cls(tau=tau, r=tau / dt)


def nir_li_step(v: np.ndarray, current: np.ndarray, p: NIRLIParams,
                dt: float = 1e-4) -> np.ndarray:
    """Advance NIR's ``LI`` by one forward-Euler step of ``dt`` seconds (float64).

    NIR's ``LIF`` without a threshold: :func:`neurotile.neurons.lif.nir_lif_step` with
    ``v_threshold = +inf``.
    """
    lif = NIRLIFParams(tau=p.tau, r=p.r, v_leak=p.v_leak, v_threshold=np.inf)
    new, _ = nir_lif_step(v, current, lif, dt)
    return new


@dataclass(frozen=True)
class NIRIParams:
    """NIR ``I`` node (integrator): ``dv/dt = r I``; ``r`` in membrane units per input unit
    and second."""

    r: float


def nir_i_step(v: np.ndarray, current: np.ndarray, p: NIRIParams, dt: float = 1e-4) -> np.ndarray:
    """Advance NIR's ``I`` by one forward-Euler step: ``v + dt r I`` (float64)."""
    return np.asarray(v, np.float64) + dt * p.r * np.asarray(current, np.float64)


# -- integer model of the hardware -------------------------------------------------------------

def decay_setting(**changes: Any) -> Setting:
    """The LIF population's ``decay`` setting, its default held inside the legal range (LIF's
    ``round(0.875 * 2**beta_bits)`` exceeds it for ``beta_bits <= 2``); ``changes`` as
    :func:`dataclasses.replace` takes them."""
    lif = LIFIntParams.setting("decay")

    def default(c: Any) -> int:
        return min(lif.default(c), lif.high(c))  # type: ignore[misc]  # LIF's has a high

    def explain(c: Any) -> str:
        return "without a leak (leak 'none')" if c.leak == "none" else \
            lif.explain(c)  # type: ignore[misc]  # LIF's explains its range

    return replace(lif, default=default, explain=explain, **changes)


class LIIntParams(NeuronConfig):
    """The hardware leaky-integrator population (see :mod:`neurons.spec`).

    Structural parameters: ``neurons``; ``width``, membrane bits (two's complement);
    ``input_width``, input current bits (two's complement); ``leak``, ``"shift"``
    (``U - (U >> k)``, ``beta = 1 - 2**-k``), ``"multiply"`` (``(U * b) >> beta_bits``,
    ``beta = b / 2**beta_bits``) or ``"none"`` (NIR's integrator ``I``, ``beta = 1``);
    ``beta_bits``, fraction bits of ``b``.

    Run-time setting: ``decay``, ``k`` (shift, ``1 <= k < width``) or ``b`` (multiply,
    ``1 <= b < 2**beta_bits``), as the LIF population's; absent without a leak.

    One step, for every value the ports can carry::

        U' = sat(L(U) + I)     L(U) = U - (U >> k) | (U * b) >> beta_bits | U

    ``>>`` is arithmetic (rounds toward minus infinity); ``sat`` clamps once to the membrane
    range. The output is the membrane ``U'``.
    """

    NAME = "li"
    TITLE = "leaky integrator"
    PARAMS = (
        LIFIntParams.PARAMS[0],  # width
        LIFIntParams.PARAMS[1],  # input_width
        Param("leak", str, "shift", "leak by arithmetic shift, U - (U >> k), by fixed-point "
              "multiply, (U * b) >> beta_bits, or none (integrator)",
              choices=("shift", "multiply", "none")),
        LIFIntParams.PARAMS[3],  # beta_bits
    )
    SETTINGS = (decay_setting(when=lambda c: c.leak != "none"),)
    #: The float model's options: snnTorch's readout ``Leaky(beta, reset_mechanism="none")``
    #: (:func:`li_step`; ``beta = 1`` is the integrator), ``beta`` defaulting to the
    #: hardware's default leak (``k = 3``).
    FLOAT_PARAMS = (next(p for p in LIFIntParams.FLOAT_PARAMS if p.name == "beta"),)

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """:func:`li_step` from zero over ``currents``; the ``membrane`` (float32) per step."""
        out = leaky_run(currents, LeakyParams(beta=options["beta"], reset="none"))
        return {"membrane": out["membrane"]}

    def float_equivalent(self) -> dict[str, Any]:
        """The readout ``Leaky`` with this configuration's ``beta`` (1 without a leak)."""
        return self.float_options(beta=self.beta)

    # Fields ------------------------------------------------------------------------------------
    def input_field(self) -> Field:
        return Field("current", self.input_width, True)

    def state_fields(self) -> tuple[Field, ...]:
        return (Field("membrane", self.width, True, "membrane U"),)

    def output_fields(self) -> tuple[Field, ...]:
        return (Field("membrane", self.width, True, "membrane after the step"),)

    # The LIF that never fires ------------------------------------------------------------------
    @cached_property
    def lif(self) -> LIFIntParams | None:
        """The LIF structure whose membrane this is (no refractory counter), or ``None``
        without a leak. Its threshold is pinned at :attr:`mem_max`."""
        if self.leak == "none":
            return None
        return LIFIntParams(neurons=self.neurons, width=self.width, input_width=self.input_width,
                            leak=self.leak, beta_bits=self.beta_bits, refractory_width=0,
                            decay=1)  # settings of the part are ports, not used here

    @property
    def mem_min(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def mem_max(self) -> int:
        return (1 << (self.width - 1)) - 1

    @property
    def decay_width(self) -> int:
        """Bits of the ``decay`` port (the LIF population's)."""
        return 1 if self.lif is None else self.lif.decay_width

    @property
    def beta(self) -> float:
        """The decay factor the run-time ``decay`` setting stands for (1 without a leak)."""
        if self.leak == "none":
            return 1.0
        return 1.0 - 2.0 ** -self.decay if self.leak == "shift" else \
            self.decay / (1 << self.beta_bits)

    # The model ---------------------------------------------------------------------------------
    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        mem = state["membrane"]
        if self.lif is None:
            v = np.clip(mem + current, self.mem_min, self.mem_max)
        else:
            lif_settings = {"threshold": self.mem_max, "decay": settings["decay"]}
            new, _ = self.lif.step({"membrane": mem}, current, lif_settings)
            v = new["membrane"]
        return {"membrane": v}, {"membrane": v}

    def directed(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Saturation both ways (and back), then a single step from rest at each input extreme."""
        n = self.neurons
        lo, hi = self.input_min, self.input_max
        sat = 2 * ((self.mem_max - self.mem_min) // max(1, hi) + 2)
        out = [{"current": np.full((sat, n), value)} for value in (hi, lo, hi)]
        out[-1]["reset_after"] = True
        out.append({"current": np.where(np.arange(n) % 2 == 0, lo, hi)[None, :],
                    "reset_after": True})
        return out


MODEL = LIIntParams
