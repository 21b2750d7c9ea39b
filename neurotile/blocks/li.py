# SPDX-License-Identifier: Apache-2.0
"""The leaky integrator population's block: the model's own options, plus snnTorch's ``--beta``
as a multiply leak."""

from __future__ import annotations

from neurotile.blocks.population import float_leaks, neuron_block
from neurotile.neurons.leaky_integrator import LIIntParams

__all__ = ["BLOCK"]

_EXTRA, _PREPARE = float_leaks(LIIntParams, beta="decay")

BLOCK = neuron_block(LIIntParams, extra=_EXTRA, prepare=_PREPARE)
