#!/usr/bin/env python3
"""PyTorch side of the GPU check: the same layers as bench/gpu/layers.js with
torch.nn.functional.conv2d (groups, channels_last) in float32 (TF32 off, to
match our exact float32, and TF32 on, PyTorch's default), float16 and bfloat16,
timed like bench_layers.js (queue `iters` launches, synchronize once, median of
5 repeats); the batch-1 float32 outputs of ours and cuDNN-through-our-addon
checked against PyTorch's; and whole resnext50_32x4d (torchvision) throughput
at batch 256 in float16 and latency at batch 1, channels_last, eager.

  python3 bench/gpu/bench_torch.py --layers layers.json --out torch.json [--xcheck DIR] [--network]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F


def time_runs(fn, quick=False):
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
                g = torch.Generator(device="cuda").manual_seed(1)
                x = torch.randn(batch, l["c"], l["hw"], l["hw"], device="cuda", generator=g, dtype=DT[dtype]).to(
                    memory_format=torch.channels_last)
                w = torch.randn(l["c"], cg, 3, 3, device="cuda", generator=g, dtype=DT[dtype]).to(memory_format=torch.channels_last)
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
        x = torch.from_numpy(np.fromfile(os.path.join(dirname, f'{e["layer"]}.x.f32'), dtype=np.float32).reshape(e["x"])).cuda()
        w = torch.from_numpy(np.fromfile(os.path.join(dirname, f'{e["layer"]}.w.f32'), dtype=np.float32).reshape(e["w"])).cuda()
        y = np.fromfile(os.path.join(dirname, f'{e["layer"]}.{e["impl"]}.y.f32'), dtype=np.float32).reshape(e["y"])
        ref = F.conv2d(x.double(), w.double(), None, e["stride"], e["padding"], 1, e["groups"]).cpu().numpy()
        err = float(np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-30))
        res.append({"layer": e["layer"], "impl": e["impl"], "relErr": err})
        print(f'xcheck {e["layer"]:16} {e["impl"]:6} relErr vs PyTorch (float64) {err:.2e}', flush=True)
    torch.backends.cudnn.allow_tf32 = True
    return res


def bench_network(quick):
    try:
        import torchvision
    except Exception as e:  # noqa: BLE001
        return {"error": f"torchvision unavailable: {e}"}
    torch.backends.cudnn.benchmark = True
    m = torchvision.models.resnext50_32x4d().cuda().eval().to(memory_format=torch.channels_last)
    res = {}
    with torch.no_grad():
        mh = m.half()
        x = torch.randn(256, 3, 224, 224, device="cuda", dtype=torch.float16).to(memory_format=torch.channels_last)
        t = time_runs(lambda: mh(x), True)
        res["fp16_batch256"] = {**t, "images_per_s": 256 / (t["us"] * 1e-6)}
        x1 = torch.randn(1, 3, 224, 224, device="cuda", dtype=torch.float16).to(memory_format=torch.channels_last)
        res["fp16_batch1"] = time_runs(lambda: mh(x1), quick)
        mf = m.float()
        x1f = x1.float()
        res["fp32_batch1"] = time_runs(lambda: mf(x1f), quick)
    for k, v in res.items():
        print(f"resnext50_32x4d {k}: {v['us'] / 1e3:.3f} ms", flush=True)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--xcheck")
    ap.add_argument("--network", action="store_true")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    spec = json.load(open(a.layers))
    env = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "device": torch.cuda.get_device_name(0),
    }
    print(f"torch {env['torch']} cuda {env['cuda']} cudnn {env['cudnn']} on {env['device']}", flush=True)
    result = {"env": env, "results": bench_layers(spec["layers"], spec["batches"], a.quick)}
    if a.xcheck:
        result["xcheck"] = xcheck(a.xcheck)
    if a.network:
        result["network"] = bench_network(a.quick)
    json.dump(result, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
