# Lab 04: V(t) at 10 uA/cm^2 and the f-I curve, float reference against fixed-point designs.
# Run: python plot_hh.py [--v-frac N] [--gate-frac N] [--dt-us N]  -> hh.png  (about a minute)
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from neurotile.neurons.hodgkin_huxley import HHIntParams, hh_float_run, hh_int_run

ap = argparse.ArgumentParser()
ap.add_argument("--v-frac", type=int, default=10)
ap.add_argument("--gate-frac", type=int, default=16)
ap.add_argument("--dt-us", type=int, default=25)
args = ap.parse_args()
designs = {"default": HHIntParams(),
           "yours": HHIntParams(v_frac=args.v_frac, gate_frac=args.gate_frac, dt_us=args.dt_us)}
currents = np.arange(0.0, 30.1, 1.0)           # f-I: one neuron per current, 100 ms each


def code(i):                                   # stimulus port: 8 fraction bits of uA/cm^2
    return np.round(np.asarray(i) * 256).astype(np.int64)


fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
ref = hh_float_run(10.0, 50.0)
left.plot(ref.t, ref.v[:, 0], "k", lw=1.5, label="float64 RK4")
ref_fi = hh_float_run(currents, 100.0)
right.plot(currents, [len(t) * 10 for t in ref_fi.spike_times], "k-o", ms=3, label="float64")
for name, p in designs.items():
    steps = int(round(50.0 / p.dt_ms))
    run = hh_int_run(p, code(10.0), steps)
    t = p.dt_ms * np.arange(1, steps + 1)
    left.plot(t, run.v[:, 0] / 2 ** p.v_frac, lw=0.8,
              label=f"{name}: V {8 + p.v_frac} b, gates {p.gate_frac} b, dt {p.dt_us} us")
    fi = hh_int_run(p, code(currents), int(round(100.0 / p.dt_ms)))
    right.plot(currents, [len(t) * 10 for t in fi.spike_times], "-o", ms=3, label=name)
left.set_xlabel("time (ms)")
left.set_ylabel("V (mV)")
left.legend(fontsize=7)
right.set_xlabel("I (uA/cm^2)")
right.set_ylabel("spikes per second over 100 ms")
right.legend(fontsize=7)
fig.tight_layout()
fig.savefig("hh.png", dpi=120)
print("wrote hh.png")
