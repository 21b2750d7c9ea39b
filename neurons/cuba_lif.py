# SPDX-License-Identifier: Apache-2.0
"""Current-based LIF (NIR ``CubaLIF``; snnTorch ``Synaptic``) reference models.

A synaptic current ``I_syn`` low-pass filters the input and drives a LIF membrane. Three models:

* :func:`synaptic_step` reproduces snnTorch's ``Synaptic`` in float32, operation for operation,
  in every reset mechanism with and without ``reset_delay`` (``H(x) = 1`` for ``x > 0``)::

      R = H(U - theta)                         # from the stored membrane, always
      I_syn' = alpha I_syn + X;   V = beta U + I_syn'
      subtract: U' = V - R theta;   zero: U' = V - V R (0 where R);   none: U' = V
      S = H(U' - theta)
      reset_delay=False: subtract U' -= (S - R) theta;  zero U' -= (S - R) U';  none: nothing

  Unlike ``Leaky``, ``Synaptic``'s zero reset clears the whole membrane, input included, on the
  step after a spike; the synaptic current is never reset.
* :func:`nir_cubalif_step`: forward Euler of NIR's ``CubaLIF``,
  ``tau_syn dI/dt = -I + w_in X``, ``tau_mem dv/dt = (v_leak - v) + r I``, spike when
  ``v > v_threshold``, then ``v = v_reset``; the current is advanced first and drives the
  membrane in the same step (snnTorch's order). With snnTorch's export mapping
  (:meth:`NIRCubaLIFParams.from_synaptic`: ``tau_syn = dt/(1-alpha)``, ``w_in = tau_syn/dt``,
  ``tau_mem = dt/(1-beta)``, ``r = tau_mem/dt``, ``dt = 1e-4``) it is
  ``Synaptic(reset_mechanism="zero", reset_delay=False)`` up to rounding.
* The integer model of :class:`neurotile.rtl.cuba_lif.CubaLIFDatapath`, :class:`CubaLIFIntParams`:
  a leaky integrator for the current (:class:`neurotile.neurons.leaky_integrator.LIIntParams`)
  feeding the LIF population's membrane (:class:`neurotile.neurons.lif.LIFIntParams`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from neurotile.neurons.leaky_integrator import LIIntParams, decay_setting
from neurotile.neurons.lif import LIFIntParams, NIRLIFParams, nir_lif_step
from neurotile.neurons.spec import Field, NeuronConfig, Param, Setting

__all__ = ["SynapticParams", "synaptic_step", "NIRCubaLIFParams", "nir_cubalif_step",
           "CubaLIFIntParams", "MODEL"]


# -- float models ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SynapticParams:
    """snnTorch ``Synaptic`` conventions.

    ``alpha``: synaptic current decay per step, ``beta``: membrane decay per step (both
    dimensionless, 0..1); ``threshold`` in membrane units; ``reset``: ``"subtract"`` (snnTorch's
    default), ``"zero"`` or ``"none"``; ``reset_delay``: snnTorch's default ``True``.
    """

    alpha: float
    beta: float
    threshold: float = 1.0
    reset: str = "subtract"
    reset_delay: bool = True

    def __post_init__(self) -> None:
        for name in ("alpha", "beta"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {getattr(self, name)}")
        if self.reset not in ("subtract", "zero", "none"):
            raise ValueError(f"reset must be 'subtract', 'zero' or 'none', not {self.reset!r}")


def _heaviside(x: np.ndarray) -> np.ndarray:
    return (x > 0).astype(np.float32)


def synaptic_step(syn: np.ndarray, mem: np.ndarray, current: np.ndarray,
                  p: SynapticParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance snnTorch ``Synaptic`` by one step in float32, as snnTorch orders its operations.

    Parameters
    ----------
    syn, mem : ndarray
        The stored synaptic current and membrane (computed in float32).
    current : ndarray
        Input of the step, same shape.
    p : SynapticParams
        snnTorch's settings.

    Returns
    -------
    syn, mem, spikes : ndarray
        New synaptic current and membrane (float32) and the spikes (bool).
    """
    i = np.asarray(syn, np.float32)
    u = np.asarray(mem, np.float32)
    x = np.asarray(current, np.float32)
    alpha, beta, th = np.float32(p.alpha), np.float32(p.beta), np.float32(p.threshold)
    r = _heaviside(u - th)
    i = alpha * i + x
    v = beta * u + i
    if p.reset == "subtract":
        v = v - r * th
    elif p.reset == "zero":
        v = v - v * r
    s = _heaviside(v - th)
    if not p.reset_delay:
        undo = s - r
        if p.reset == "subtract":
            v = v - undo * th
        elif p.reset == "zero":
            v = v - undo * v
    return i, v, s > 0


@dataclass(frozen=True)
class NIRCubaLIFParams:
    """NIR ``CubaLIF`` node (fields as NIR names them).

    ``tau_syn``, ``tau_mem`` in seconds; ``w_in`` input weight of the current; ``r`` membrane
    units per current unit; ``v_leak``, ``v_threshold``, ``v_reset`` in membrane units.
    """

    tau_syn: float
    tau_mem: float
    r: float
    w_in: float = 1.0
    v_leak: float = 0.0
    v_threshold: float = 1.0
    v_reset: float = 0.0

    @property
    def membrane(self) -> NIRLIFParams:
        """The membrane alone: NIR's ``LIF`` driven by the synaptic current."""
        return NIRLIFParams(tau=self.tau_mem, r=self.r, v_leak=self.v_leak,
                            v_threshold=self.v_threshold, v_reset=self.v_reset)

    @classmethod
    def from_synaptic(cls, alpha: float, beta: float, threshold: float = 1.0,
                      dt: float = 1e-4) -> NIRCubaLIFParams:
        """The node snnTorch exports for ``Synaptic(alpha, beta)``."""
        lif = NIRLIFParams.from_leaky(beta, threshold, dt)
        tau_syn = dt / (1.0 - alpha)
        return cls(tau_syn=tau_syn, tau_mem=lif.tau, r=lif.r, w_in=tau_syn / dt,
                   v_threshold=threshold)


def nir_cubalif_step(syn: np.ndarray, v: np.ndarray, current: np.ndarray, p: NIRCubaLIFParams,
                     dt: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance NIR's ``CubaLIF`` by one forward-Euler step of ``dt`` seconds (float64).

    The current first, ``I' = I + dt/tau_syn (w_in X - I)``, then the membrane from ``I'``
    (:func:`neurotile.neurons.lif.nir_lif_step`). Returns ``(syn, v, spikes)``.
    """
    i = np.asarray(syn, np.float64)
    i = i + dt / p.tau_syn * (p.w_in * np.asarray(current, np.float64) - i)
    v, spikes = nir_lif_step(v, i, p.membrane, dt)
    return i, v, spikes


# -- integer model of the hardware -------------------------------------------------------------

def _param(name: str, **changes: Any) -> Param:
    """The LIF population's parameter ``name``, with ``changes``."""
    found = next(p for p in LIFIntParams.PARAMS if p.name == name)
    return replace(found, **changes) if changes else found


def _syn_decay_setting() -> Setting:
    """The leaky integrator's ``decay``, for the synaptic current: evaluated on the synapse part
    (:attr:`CubaLIFIntParams.synapse`, ``syn_width`` bits)."""
    li = LIIntParams.setting("decay")
    return replace(
        li, name="syn_decay",
        help="synaptic current leak: k of I - (I >> k) (shift) or b of (I * b) >> beta_bits "
             "(multiply)",
        field=lambda c: replace(li.field(c.synapse), name="syn_decay"),
        default=lambda c: li.default(c.synapse),
        low=lambda c: li.low(c.synapse),  # type: ignore[misc]  # the LIF decay's are set
        high=lambda c: li.high(c.synapse),  # type: ignore[misc]
        when=None,
        explain=lambda c: f"(alpha = 1 - 2**-k in (0, 1)) for a {c.syn_width}-bit synaptic "
        "current" if c.leak == "shift" else f"(alpha = b / 2**{c.beta_bits} in (0, 1))")


class CubaLIFIntParams(NeuronConfig):
    """The hardware current-based LIF population (see :mod:`neurons.spec`).

    Structural parameters: ``neurons``; ``width``, membrane bits; ``syn_width``, synaptic
    current bits; ``input_width``, input bits (all two's complement); ``leak``, ``"shift"`` or
    ``"multiply"`` for both decays (``beta_bits`` fraction bits); ``refractory_width``, bits of
    the refractory counter (0 removes it; needs a reset); ``reset``, ``"subtract"``, ``"zero"``
    or ``"none"``; ``reset_delay``, as snnTorch.

    Run-time settings: ``threshold`` (membrane units, ``0 <= th < 2**(width-1)``), ``decay``
    (the membrane's ``beta``: ``k`` or ``b``) and ``refractory`` are the LIF population's;
    ``syn_decay`` (the current's ``alpha``) is ``k`` (``1 <= k < syn_width``) or ``b``
    (``1 <= b < 2**beta_bits``).

    One step, for every value the ports can carry (``L_a``, ``L_b`` the shift or multiply leaks
    of :class:`~neurotile.neurons.leaky_integrator.LIIntParams`, rounding toward minus
    infinity)::

        I'  = sat_syn(L_a(I) + X)                        # the leaky integrator "li"
        R   = U > th                                     (reset_delay)
        D   = 0 if (zero reset and R) else I'            # Synaptic's zero reset clears U' whole
        U', S, counter' = the LIF population's step on (U, counter) with input D
        reset "none": U' = sat(L_b(U) + I'), S = U' > th (the leaky integrator and a compare)

    Each state saturates to its own width, once per step, after the full-width sum.
    """

    NAME = "cuba-lif"
    TITLE = "current-based leaky integrate-and-fire"
    PARAMS = (
        _param("width"),
        Param("syn_width", int, 8, "synaptic current bits, two's complement", low=2, high=32),
        _param("input_width"),
        _param("leak", help="leak of the current and the membrane: arithmetic shift, "
               "X - (X >> k), or fixed-point multiply, (X * b) >> beta_bits"),
        _param("beta_bits"),
        _param("refractory_width", default=0),
        Param("reset", str, "subtract", "reset after a spike",
              choices=("subtract", "zero", "none")),
        _param("reset_delay"),
    )
    SETTINGS = (
        LIFIntParams.setting("threshold"),
        decay_setting(),
        _syn_decay_setting(),
        LIFIntParams.setting("refractory"),
    )
    #: The float model's options: snnTorch ``Synaptic``'s (:class:`SynapticParams`), with its
    #: defaults; ``alpha`` and ``beta`` default to the hardware's default leaks (``k = 3``).
    FLOAT_PARAMS = (
        Param("alpha", float, 0.875, "synaptic current decay per step (snnTorch alpha)",
              low=0.0, high=1.0, metavar="A"),
    ) + LIFIntParams.FLOAT_PARAMS

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """snnTorch ``Synaptic`` in float32 (:func:`synaptic_step`) from zero over ``currents``
        (``[steps, neurons]``): ``spikes`` (bool), ``membrane`` and ``synaptic`` (float32)."""
        p = SynapticParams(**options)
        x = np.asarray(currents, np.float32)
        syn = mem = np.zeros(x.shape[1:], np.float32)
        out = {"spikes": np.empty(x.shape, bool), "membrane": np.empty(x.shape, np.float32),
               "synaptic": np.empty(x.shape, np.float32)}
        for t in range(x.shape[0]):
            syn, mem, out["spikes"][t] = synaptic_step(syn, mem, x[t], p)
            out["membrane"][t], out["synaptic"][t] = mem, syn
        return out

    def float_equivalent(self) -> dict[str, Any]:
        """snnTorch ``Synaptic`` with this configuration's ``alpha``, ``beta``, threshold and
        reset (membrane units)."""
        return self.float_options(alpha=self.alpha, beta=self.beta,
                                  threshold=float(self.threshold), reset=self.reset,
                                  reset_delay=self.reset_delay)

    def check(self) -> None:
        if self.reset == "none" and self.refractory_width:
            raise ValueError("refractory_width must be 0 with reset 'none', not "
                             f"{self.refractory_width}")

    # Fields ------------------------------------------------------------------------------------
    def input_field(self) -> Field:
        return Field("current", self.input_width, True)

    def state_fields(self) -> tuple[Field, ...]:
        fields = (Field("synaptic", self.syn_width, True, "synaptic current I"),
                  Field("membrane", self.width, True, "membrane U"))
        if self.refractory_width:
            fields += (Field("countdown", self.refractory_width, False,
                             "refractory steps left"),)
        return fields

    def output_fields(self) -> tuple[Field, ...]:
        return (Field("spike", 1, False, "the neuron fired"),
                Field("membrane", self.width, True, "membrane after the step (and any "
                      "same-step reset)"),
                Field("synaptic", self.syn_width, True, "synaptic current after the step"))

    # The parts ---------------------------------------------------------------------------------
    @cached_property
    def synapse(self) -> LIIntParams:
        """The synaptic current: a leaky integrator of the input."""
        return LIIntParams(neurons=self.neurons, width=self.syn_width,
                           input_width=self.input_width, leak=self.leak,
                           beta_bits=self.beta_bits)

    @cached_property
    def soma(self) -> LIFIntParams | None:
        """The membrane: the LIF population driven by the synaptic current (``None`` for
        reset ``"none"``, which LIF lacks)."""
        if self.reset == "none":
            return None
        return LIFIntParams(neurons=self.neurons, width=self.width, input_width=self.syn_width,
                            leak=self.leak, beta_bits=self.beta_bits,
                            refractory_width=self.refractory_width, reset=self.reset,
                            reset_delay=self.reset_delay, decay=1)  # its settings are ports

    @cached_property
    def integrator(self) -> LIIntParams:
        """The membrane without a reset: a leaky integrator of the synaptic current."""
        return LIIntParams(neurons=self.neurons, width=self.width, input_width=self.syn_width,
                           leak=self.leak, beta_bits=self.beta_bits)

    @property
    def decay_width(self) -> int:
        """Bits of the membrane's ``decay`` port (the LIF population's)."""
        return self.integrator.decay_width

    @property
    def mem_min(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def mem_max(self) -> int:
        return (1 << (self.width - 1)) - 1

    @property
    def syn_min(self) -> int:
        return -(1 << (self.syn_width - 1))

    @property
    def syn_max(self) -> int:
        return (1 << (self.syn_width - 1)) - 1

    @property
    def refractory_max(self) -> int:
        return (1 << self.refractory_width) - 1

    @property
    def alpha(self) -> float:
        """The synaptic decay factor ``syn_decay`` stands for."""
        return self.synapse.replace(decay=self.syn_decay).beta

    @property
    def beta(self) -> float:
        """The membrane decay factor ``decay`` stands for."""
        return self.integrator.replace(decay=self.decay).beta

    # The model ---------------------------------------------------------------------------------
    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        syn, _ = self.synapse.step({"membrane": state["synaptic"]}, current,
                                   {"decay": settings["syn_decay"]})
        i = syn["membrane"]
        mem, th = state["membrane"], settings["threshold"]
        if self.soma is None:
            new, _ = self.integrator.step({"membrane": mem}, i, {"decay": settings["decay"]})
            v = new["membrane"]
            spikes = v > th
        else:
            drive = np.where(mem > th, 0, i) if self.reset == "zero" and self.reset_delay else i
            lif_state = {k: v for k, v in state.items() if k != "synaptic"}
            new, out = self.soma.step(lif_state, drive, settings)
            v, spikes = new["membrane"], out["spike"]
        next_state = dict(new, synaptic=i)
        return next_state, {"spike": spikes, "membrane": v, "synaptic": i}

    def directed(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Saturation of both states both ways, the strict threshold edge, refractoriness."""
        n = self.neurons
        lo, hi = self.input_min, self.input_max
        span = max(self.mem_max - self.mem_min, self.syn_max - self.syn_min)
        sat = 2 * (span // max(1, min(hi, self.syn_max)) + 2)
        out: list[dict[str, Any]] = [
            {"current": np.full((sat, n), value), "threshold": self.mem_max,
             "reset_after": True} for value in (hi, lo)]
        edge = min(self.threshold, hi - 1, self.syn_max - 1)
        if edge >= 0:  # from the reset state U' = I' = X: v == th must not fire, th + 1 must
            out.append({"current": np.where(np.arange(n) % 2 == 0, edge, edge + 1)[None, :],
                        "threshold": edge, "reset_after": True})
        drive = {"current": np.full((12, n), hi), "threshold": max(0, min(self.threshold,
                                                                        hi // 2))}
        if self.refractory_width:
            drive["refractory"] = self.refractory_max
        out.append(drive)
        return out


MODEL = CubaLIFIntParams
