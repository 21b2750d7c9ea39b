# SPDX-License-Identifier: Apache-2.0
"""The CubaLIF population's block: the model's own options, plus snnTorch's ``--alpha`` (the
synaptic current's decay) and ``--beta`` (the membrane's) as multiply leaks."""

from __future__ import annotations

from neurotile.blocks.population import float_leaks, neuron_block
from neurotile.neurons.cuba_lif import CubaLIFIntParams

__all__ = ["BLOCK"]

_EXTRA, _PREPARE = float_leaks(CubaLIFIntParams, alpha="syn_decay", beta="decay")

BLOCK = neuron_block(CubaLIFIntParams, extra=_EXTRA, prepare=_PREPARE)
