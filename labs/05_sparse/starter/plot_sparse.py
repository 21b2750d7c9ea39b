# Lab 05: cycles per timestep against weight density and spike rate, from your functions.
# Run: python plot_sparse.py  -> sparse.png
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sparse import cycles_per_step, to_csr

INPUTS = OUTPUTS = 64
DENSITIES = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
RATES = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
rng = np.random.default_rng(1)

for rate in RATES:
    mean = []
    for density in DENSITIES:
        w = np.where(rng.random((INPUTS, OUTPUTS)) < density, 1, 0).tolist()
        row_ptr, _, _ = to_csr(w)
        steps = [np.flatnonzero(rng.random(INPUTS) < rate).tolist() for _ in range(20)]
        mean.append(np.mean([cycles_per_step(row_ptr, e, OUTPUTS) for e in steps]))
    plt.loglog(DENSITIES, mean, "o-", label=f"spike rate {rate}")
plt.axhline(INPUTS * OUTPUTS + OUTPUTS + 2, color="k", ls="--", label="dense datapath")
plt.xlabel("weight density")
plt.ylabel("cycles per timestep")
plt.legend(fontsize=7)
plt.savefig("sparse.png", dpi=120)
print("wrote sparse.png")
