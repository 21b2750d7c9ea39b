# Lab 01: one step of the hardware LIF neuron, in integers.
# Fill in lif_step; grade with `neurotile lab check 1 .` in this folder.


def lif_step(u: int, i: int, *, width: int, threshold: int, k: int, reset: str,
             reset_delay: bool) -> tuple[int, bool]:
    """Advance one neuron by one step; return (new membrane, spike).

    u            membrane at the start of the step, a width-bit two's complement integer
    i            input current this step (an integer code, fits width bits)
    width        membrane bits
    threshold    0 <= threshold < 2**(width-1)
    k            leak shift: the leaked membrane is U - (U >> k), beta = 1 - 2**-k
    reset        "subtract" or "zero"
    reset_delay  True: snnTorch's default (reset decided from u, the membrane the step starts
                 from); False: reset in the same step as the spike
    """
    raise NotImplementedError("write lif_step")
