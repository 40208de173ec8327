# Child process of bench/peers/run.js: PyTorch's F.conv2d (one-shot, as users
# call it) as a timed peer. Reads one JSON request per line on stdin, answers
# one JSON line on stdout.
#   {"cmd": "prepare", "file": path, "N", "C", "H", "W", "K", "R", "S", "groups", "stride", "pad", "threads"}
#       the file holds x [N,C,H,W], w [K,C/groups,R,S], b [K] as float32, back to back; answers
#       {"ok": true, "out0": path} with image 0 of the output written next to it as float32.
#   {"cmd": "time", "reps": n, "idleMs": ms, "warmMs": ms, "gapMs": ms}
#       idles idleMs, runs untimed calls for warmMs (2 at least), then times reps calls; with
#       gapMs > 0 each timed call comes after a gapMs sleep (the "after an idle gap" mode).
#       Answers {"ok": true, "times": [ms...], "cpuMs": per-call process CPU time}.
#   {"cmd": "exit"}
# Run with /usr/bin/python3 (the Debian python3-torch build, torch 1.13 with oneDNN).
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_serve import serve  # noqa: E402

state = {}


def prepare(m):
    torch.set_num_threads(int(m["threads"]))
    N, C, H, W, K, R, S, g = (int(m[k]) for k in ("N", "C", "H", "W", "K", "R", "S", "groups"))
    data = torch.from_file(m["file"], shared=False, size=N * C * H * W + K * (C // g) * R * S + K, dtype=torch.float32)
    nx, nw = N * C * H * W, K * (C // g) * R * S
    x = data[:nx].reshape(N, C, H, W).clone()
    w = data[nx : nx + nw].reshape(K, C // g, R, S).clone()
    b = data[nx + nw :].clone()
    stride, pad = int(m["stride"]), int(m["pad"])

    def run():
        return F.conv2d(x, w, b, stride, pad, 1, g)

    state["run"] = run
    with torch.no_grad():
        y = run()
    out0 = m["file"] + ".out0"
    y[0].contiguous().numpy().tofile(out0)
    return {"out0": out0, "version": torch.__version__}


def time_block(m):
    run = state["run"]
    time.sleep(m.get("idleMs", 0) / 1000)
    gap = m.get("gapMs", 0) / 1000
    times = []
    with torch.no_grad():
        w0 = time.perf_counter()
        k = 0
        while k < 2 or (time.perf_counter() - w0) * 1000 < m.get("warmMs", 0):
            run()
            k += 1
        c0 = time.process_time()
        for _ in range(int(m["reps"])):
            if gap > 0:
                time.sleep(gap)
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1000)
        c1 = time.process_time()
    return {"times": times, "cpuMs": (c1 - c0) * 1000 / max(1, int(m["reps"]))}


serve({"prepare": prepare, "time": time_block})
