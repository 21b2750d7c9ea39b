# Lab 01: plot your lif_step against the kit's float neuron (snnTorch's Leaky).
# Run: python plot_lif.py  -> lif.png
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lif import lif_step
from neurotile.neurons.lif import LeakyParams, leaky_run

STEPS, CURRENT, WIDTH, K = 60, 0.3, 8, 3
scale = 2 ** (WIDTH - 2)                     # threshold 1.0 is this many membrane units
float_run = leaky_run(np.full((STEPS, 1), CURRENT), LeakyParams(beta=1 - 2 ** -K))

u, mem, spikes = 0, [], []
for t in range(STEPS):
    u, s = lif_step(u, round(CURRENT * scale), width=WIDTH, threshold=scale, k=K,
                    reset="subtract", reset_delay=True)
    mem.append(u / scale)
    spikes.append(s)

t = np.arange(1, STEPS + 1)
ref_spikes = float_run["spikes"][:, 0]
plt.figure(figsize=(9, 3.5))
plt.plot(t, float_run["membrane"][:, 0], ".-", label="float (snnTorch Leaky)")
plt.plot(t, mem, ".-", label=f"your lif_step, {WIDTH} bits")
plt.plot(t[ref_spikes], np.full(ref_spikes.sum(), 1.3), "|", ms=12, color="C0")
plt.plot(t[np.array(spikes)], np.full(sum(spikes), 1.4), "|", ms=12, color="C1")
plt.axhline(1.0, color="grey", lw=0.5)
plt.xlabel("step (spikes marked above)")
plt.ylabel("membrane / threshold")
plt.legend(loc="lower right", fontsize=8)
plt.tight_layout()
plt.savefig("lif.png", dpi=120)
print("wrote lif.png")
