#!/usr/bin/env python3
"""PyTorch side of the GPU check: the same layers as bench/gpu/layers.js with
torch.nn.functional.conv2d (groups, channels_last) in float32 (TF32 off, to
match our exact float32, and TF32 on, PyTorch's default), float16 and bfloat16,
timed like bench_layers.js (queue `iters` launches, synchronize once, median of
5 repeats); the batch-1 float32 outputs of ours and cuDNN-through-our-addon
checked against PyTorch's; and whole resnext50_32x4d (torchvision),
channels_last, as two peers: eager, and the forward captured once into a CUDA
graph (torch.cuda.CUDAGraph) and replayed; batch 256 float16 throughput and
batch-1 float16 / float32 latency for each. With --compile, torch.compile(mode=
"reduce-overhead") too where this PyTorch has it and time is left (it compiles
for a minute or more; a failure is recorded, not raised).

  python3 bench/gpu/bench_torch.py --layers layers.json --out torch.json [--xcheck DIR] [--network] [--compile BUDGET_S] [--dry-run]
  --dry-run: on the CPU with a tiny network (32x32, batch 4 for the big batch), to check the script without a GPU;
             nothing it times means anything, and the CUDA graphs are recorded as not run.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

DEVICE = "cuda"
T0 = time.perf_counter()


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def time_runs(fn, quick=False):
    if DEVICE != "cuda":  # --dry-run: one repeat of a few calls
        t0 = time.perf_counter()
        for _ in range(2):
            fn()
        us = (time.perf_counter() - t0) * 1e6 / 2
        return {"us": us, "min_us": us, "max_us": us, "iters": 2}
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    iters = 10
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - t0) * 1e3
        if ms > 20 or iters >= 20000:
            break
        iters = min(20000, int(iters * max(2, 25 / max(ms, 0.01))) + 1)
    reps = []
    for _ in range(3 if quick else 5):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
        reps.append((time.perf_counter() - t0) * 1e6 / iters)
    return {"us": statistics.median(reps), "min_us": min(reps), "max_us": max(reps), "iters": iters}


DT = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def bench_layers(layers, batches, quick):
    out = []
    torch.backends.cudnn.benchmark = True
    for l in layers:
        cg = l["c"] // l["g"]
        for batch in batches:
            for dtype, tf32 in (("float32", False), ("float32", True), ("float16", False), ("bfloat16", False)):
                torch.backends.cudnn.allow_tf32 = tf32
                if DEVICE != "cuda" and dtype != "float32":
                    continue  # CPU half-precision grouped conv is not what this script measures
                g = torch.Generator(device=DEVICE).manual_seed(1)
                x = torch.randn(batch, l["c"], l["hw"], l["hw"], device=DEVICE, generator=g, dtype=DT[dtype]).to(
                    memory_format=torch.channels_last)
                w = torch.randn(l["c"], cg, 3, 3, device=DEVICE, generator=g, dtype=DT[dtype]).to(memory_format=torch.channels_last)
                s = l["stride"]
                fn = lambda: F.conv2d(x, w, None, s, 1, 1, l["g"])
                with torch.no_grad():
                    t = time_runs(fn, quick)
                row = {"layer": l["name"], "batch": batch, "dtype": dtype, "impl": "torch" + ("-tf32" if tf32 else ""), **t}
                out.append(row)
                print(f'{row["layer"]:16} N={batch:<3} {dtype:8} {row["impl"]:10} {t["us"]:.2f} us', flush=True)
    torch.backends.cudnn.allow_tf32 = True
    return out


def xcheck(dirname):
    """relErr = max|ours - torch| / max|torch| for each batch-1 float32 output written by bench_layers.js."""
    idx = os.path.join(dirname, "index.json")
    if not os.path.exists(idx):
        return []
    torch.backends.cudnn.allow_tf32 = False
    res = []
    for e in json.load(open(idx)):
        x = torch.from_numpy(np.fromfile(os.path.join(dirname, f'{e["layer"]}.x.f32'), dtype=np.float32).reshape(e["x"])).to(DEVICE)
        w = torch.from_numpy(np.fromfile(os.path.join(dirname, f'{e["layer"]}.w.f32'), dtype=np.float32).reshape(e["w"])).to(DEVICE)
        y = np.fromfile(os.path.join(dirname, f'{e["layer"]}.{e["impl"]}.y.f32'), dtype=np.float32).reshape(e["y"])
        ref = F.conv2d(x.double(), w.double(), None, e["stride"], e["padding"], 1, e["groups"]).cpu().numpy()
        err = float(np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-30))
        res.append({"layer": e["layer"], "impl": e["impl"], "relErr": err})
        print(f'xcheck {e["layer"]:16} {e["impl"]:6} relErr vs PyTorch (float64) {err:.2e}', flush=True)
    torch.backends.cudnn.allow_tf32 = True
    return res


def graph_replay(fn, x):
    """fn(x) captured once into a CUDA graph on a static input; returns the replay (PyTorch's recipe: warm up on a
    side stream, then capture)."""
    if DEVICE != "cuda":
        raise RuntimeError("no CUDA device: graph capture not run")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn(x)
    torch.cuda.current_stream().wait_stream(side)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn(x)
    torch.cuda.synchronize()
    return g.replay


def timed(label, res, make, quick):
    """res[label] = time_runs(make()), or {"error": ...} when making or running it fails."""
    try:
        res[label] = time_runs(make(), quick)
    except Exception as e:  # noqa: BLE001
        res[label] = {"error": f"{type(e).__name__}: {e}"}
    v = res[label]
    print(f"resnext50_32x4d {label}: " + (f"{v['us'] / 1e3:.3f} ms" if "us" in v else v["error"]), flush=True)


def bench_network(quick, tiny, compile_budget_s):
    try:
        import torchvision
    except Exception as e:  # noqa: BLE001
        return {"error": f"torchvision unavailable: {e}"}, None
    torch.backends.cudnn.benchmark = True
    side, big = (32, 4) if tiny else (224, 256)
    m = torchvision.models.resnext50_32x4d().to(DEVICE).eval().to(memory_format=torch.channels_last)
    res = {"input": f"{side}x{side}", "big_batch": big}
    half = torch.float16 if DEVICE == "cuda" else torch.float32  # --dry-run: the CPU runs the fp16 rows in fp32
    with torch.no_grad():
        mh = m.to(half)
        x = torch.randn(big, 3, side, side, device=DEVICE, dtype=half).to(memory_format=torch.channels_last)
        x1 = torch.randn(1, 3, side, side, device=DEVICE, dtype=half).to(memory_format=torch.channels_last)
        for key, xx in ((f"fp16_batch{big}", x), ("fp16_batch1", x1)):
            timed(key, res, lambda xx=xx: (lambda: mh(xx)), quick or xx is x)
            timed(key + "_graph", res, lambda xx=xx: graph_replay(mh, xx), quick or xx is x)
        for key in (f"fp16_batch{big}", f"fp16_batch{big}_graph"):
            if "us" in res[key]:
                res[key]["images_per_s"] = big / (res[key]["us"] * 1e-6)
        mf = m.float()
        x1f = x1.float()
        timed("fp32_batch1", res, lambda: (lambda: mf(x1f)), quick)
        timed("fp32_batch1_graph", res, lambda: graph_replay(mf, x1f), quick)
        # The report's keys do not depend on --dry-run's smaller batch.
        if big != 256:
            res["fp16_batch256"], res["fp16_batch256_graph"] = res.pop(f"fp16_batch{big}"), res.pop(f"fp16_batch{big}_graph")

    def compile_step():
        """torch.compile(mode="reduce-overhead") of the float16 model at batch 1, into res; run after the rest is
        saved, since compiling may outlast the time cap."""
        if not hasattr(torch, "compile"):
            res["fp16_batch1_compile"] = {"error": f"torch {torch.__version__} has no torch.compile"}
        elif time.perf_counter() - T0 > compile_budget_s:
            res["fp16_batch1_compile"] = {"error": f"skipped: not started within {compile_budget_s:.0f} s"}
        else:
            mc = m.to(half)  # m.float() above converted the same module back
            with torch.no_grad():
                timed("fp16_batch1_compile", res, lambda: (lambda f=torch.compile(mc, mode="reduce-overhead"): f(x1)), quick)

    return res, (compile_step if compile_budget_s is not None else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--xcheck")
    ap.add_argument("--network", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--compile", type=float, metavar="BUDGET_S",
                    help="also torch.compile(mode='reduce-overhead') batch 1 float16 if started within BUDGET_S seconds")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    global DEVICE
    if a.dry_run:
        DEVICE = "cpu"
        torch.set_num_threads(1)
    spec = json.load(open(a.layers))
    env = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu (--dry-run)",
    }
    print(f"torch {env['torch']} cuda {env['cuda']} cudnn {env['cudnn']} on {env['device']}", flush=True)
    result = {"env": env, "results": bench_layers(spec["layers"], spec["batches"], a.quick)}
    if a.xcheck:
        result["xcheck"] = xcheck(a.xcheck)
    if a.network:
        result["network"], compile_step = bench_network(a.quick, a.dry_run, a.compile)
        json.dump(result, open(a.out, "w"), indent=1)
        if compile_step:
            compile_step()
    json.dump(result, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
