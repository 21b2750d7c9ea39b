# SPDX-License-Identifier: Apache-2.0
"""neurotile: spiking neurons and sparse synapse tiles, from Amaranth to verified Sky130 Verilog."""

__version__ = "0.1.0"
