"""
Side-by-side baseline for `npm run bench -- torch`: trains the same network,
from the same initial weights, on the same (exported) data as Ultro's al-lm,
for the same CPU time, with PyTorch: Adam full-batch and minibatch (64), each
the best of a small learning-rate grid with cosine decay over the budget, and
L-BFGS with a strong-Wolfe line search. One thread. Prints one JSON line per
method: validation and training MSE scored like Ultro's (normalised outputs,
mean over labelled samples and outputs).

With "saturate" in the data (Ultro's default form, trainer/gn-kernel.ts), the
network is trained as the clamped policy: a label within `tol` of a bound
(±1), with the output beyond it on the same side, is met anywhere up to
`reach`, and its residual is the distance past `reach`; every other residual
is y - label. The validation MSE is that of the output clamped to [-1, 1].

usage: python3 bench/torch_train.py data.json method [lr]
"""
import json
import math
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
torch.set_default_dtype(torch.float64)

d = json.load(open(sys.argv[1]))
method = sys.argv[2]
lr = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
sizes, act = d["sizes"], d["activation"]
budget = d["budgetCpuSeconds"]
Xt, Yt = torch.tensor(d["Xtrain"]).reshape(-1, sizes[0]), torch.tensor(d["Ytrain"]).reshape(-1, sizes[-1])
Xv, Yv = torch.tensor(d["Xval"]).reshape(-1, sizes[0]), torch.tensor(d["Yval"]).reshape(-1, sizes[-1])

layers, off = [], 0
for l in range(1, len(sizes)):
    lin = torch.nn.Linear(sizes[l - 1], sizes[l])
    n_w = sizes[l] * sizes[l - 1]
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(d["theta0"][off:off + n_w]).reshape(sizes[l], sizes[l - 1]))
        off += n_w
        lin.bias.copy_(torch.tensor(d["theta0"][off:off + sizes[l]]))
        off += sizes[l]
    layers.append(lin)
    if l < len(sizes) - 1:
        layers.append(torch.nn.Tanh() if act == "tanh" else torch.nn.Hardtanh() if act == "hardtanh" else torch.nn.ReLU())
net = torch.nn.Sequential(*layers)


sat = d.get("saturate")


def residual(y, Y):
    r = y - Y
    if sat:
        hi = (Y >= 1 - sat["tol"]) & (y >= 1)
        lo = (Y <= -1 + sat["tol"]) & (y <= -1)
        r = torch.where(hi, torch.relu(y - sat["reach"]), r)
        r = torch.where(lo, -torch.relu(-sat["reach"] - y), r)
    return r


def mse(X, Y):
    with torch.no_grad():
        y = net(X)
        return float((((y.clamp(-1, 1) if sat else y) - Y) ** 2).mean())


t0 = time.process_time()
elapsed = lambda: time.process_time() - t0
steps = 0
if method == "lbfgs":
    opt = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=20, history_size=50, line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-15)

    def closure():
        opt.zero_grad()
        loss = (residual(net(Xt), Yt) ** 2).mean()
        loss.backward()
        return loss

    while elapsed() < budget:
        opt.step(closure)
        steps += 1
else:
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(1)
    batch = Xt.shape[0] if method == "adam-full" else 64
    while elapsed() < budget:
        for group in opt.param_groups:  # cosine decay over the CPU-time budget
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed() / budget)))
        idx = torch.randperm(Xt.shape[0], generator=g) if batch < Xt.shape[0] else None
        for s in range(0, Xt.shape[0], batch):
            b = idx[s:s + batch] if idx is not None else slice(None)
            opt.zero_grad()
            loss = (residual(net(Xt[b]), Yt[b]) ** 2).mean()
            loss.backward()
            opt.step()
            steps += 1
            if batch < Xt.shape[0] and elapsed() >= budget:
                break
print(json.dumps({"method": method, "lr": lr, "valMse": mse(Xv, Yv), "trainMse": mse(Xt, Yt), "cpuSeconds": elapsed(), "steps": steps, "torch": torch.__version__}))
