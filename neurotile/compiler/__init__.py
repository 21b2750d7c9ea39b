# SPDX-License-Identifier: Apache-2.0
"""From a NIR graph to a verified network: reading, float reference, quantising, reporting.

* :mod:`.graph` reads a ``.nir`` file into a chain of float layers (:class:`~.graph.FloatNetwork`).
* :mod:`.floatsim` runs that chain in NumPy with the exporting library's conventions.
* :mod:`.quantise` turns it into the integer :class:`~neurotile.neurons.network.Network`.
* :mod:`.pipeline` runs the whole job behind ``neurotile compile`` and ``neurotile flow``.
"""
