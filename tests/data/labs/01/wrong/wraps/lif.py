# SPDX-License-Identifier: Apache-2.0
# Reference answer to lab 01 (kept with the tests, never shipped to students).


def lif_step(u, i, *, width, threshold, k, reset, reset_delay):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    leaked = u - (u >> k)
    r = reset_delay and u > threshold
    if reset == "subtract":
        v = leaked + i - (threshold if r else 0)
    else:
        v = (0 if r else leaked) + i
    v = ((v - lo) % (1 << width)) + lo  # wrong: wraps around
    spike = v > threshold
    if not reset_delay and spike:
        v = v - threshold if reset == "subtract" else 0
    return v, spike
