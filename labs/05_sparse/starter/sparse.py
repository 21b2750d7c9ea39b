# Lab 05: sparse, event-driven synapses. Fill in the three functions;
# grade with `neurotile lab check 5 .` in this folder. Plain Python lists are fine.


def to_csr(w):
    """Compress a dense weight matrix w (a list of rows, inputs x outputs, integers).

    Return (row_ptr, col, weight): row a's non-zero weights are entries row_ptr[a] ..
    row_ptr[a+1]-1 of col (their output index) and weight (their value), in column order;
    row_ptr has inputs + 1 entries and starts at 0. Zero weights are not stored.
    """
    raise NotImplementedError("write to_csr")


def event_step(row_ptr, col, weight, outputs, events, acc_width):
    """Accumulate one timestep of binary spike events (input addresses, in arrival order).

    For each event a, walk row a's synapses in stored order and add each weight to its
    output's accumulator, saturating to the signed acc_width-bit range after EVERY addition,
    as the hardware does. Return (acc, ops): acc has `outputs` entries (starting at 0), ops
    counts the synapses walked.
    """
    raise NotImplementedError("write event_step")


def cycles_per_step(row_ptr, events, outputs):
    """Cycles the tile (one accumulator bank) takes for one timestep with these events.

    One cycle per synapse walked, one cycle for an event whose row is empty, then `outputs`
    cycles to drain the accumulators and 2 cycles for the end-of-step marker.
    """
    raise NotImplementedError("write cycles_per_step")
