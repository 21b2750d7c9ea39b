# SPDX-License-Identifier: Apache-2.0
"""The LIF population's block: the model's own options, plus ``--beta`` as snnTorch gives it."""

from __future__ import annotations

from neurotile.blocks.population import float_leaks, neuron_block
from neurotile.neurons.lif import LIFIntParams

__all__ = ["BLOCK"]

_EXTRA, _PREPARE = float_leaks(LIFIntParams, beta="decay")

BLOCK = neuron_block(
    LIFIntParams,
    summary="population of leaky integrate-and-fire neurons sharing one datapath",
    extra=_EXTRA,
    prepare=_PREPARE,
)
