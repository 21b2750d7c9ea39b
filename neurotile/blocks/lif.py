# SPDX-License-Identifier: Apache-2.0
"""The LIF population's block: the model's own options, plus ``--beta`` as snnTorch gives it."""

from __future__ import annotations

from typing import Any

from neurotile.blocks.population import neuron_block
from neurotile.neurons.lif import LIFIntParams
from neurotile.neurons.spec import Param

__all__ = ["BLOCK"]


def _beta(params: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``--beta B`` selects the multiply leak with ``decay = round(B * 2**beta_bits)``."""
    beta = params.get("beta")
    if beta is None:
        return kwargs
    if kwargs.get("decay") is not None:
        raise ValueError("give --beta (a float) or --decay (the hardware code), not both")
    if kwargs.get("leak") == "shift":
        raise ValueError("--beta sets the multiply leak; drop --leak shift or use --decay K")
    return LIFIntParams.from_beta(beta, **(kwargs | {"leak": "multiply"})).as_dict()


BLOCK = neuron_block(
    LIFIntParams,
    summary="population of leaky integrate-and-fire neurons sharing one datapath",
    extra=(Param("beta", float, None, "multiply leak as snnTorch's beta in (0, 1), rounded to "
                 "beta_bits (selects --leak multiply)", metavar="B"),),
    prepare=_beta,
)
