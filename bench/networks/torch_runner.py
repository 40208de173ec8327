# Child process of bench/networks/runner.js: torchvision's resnet50 or
# resnext50_32x4d with the benchmark's weights, in eval mode under
# torch.no_grad(), timed on request; optionally exported with torch.onnx.export
# so that onnxruntime also runs PyTorch's own graph of the network.
# One JSON request per line on stdin, one JSON answer per line on stdout:
#   {"cmd": "prepare", "model", "batch", "size", "threads", "weights": safetensors path,
#    "input": float32 file [batch,3,size,size], "onnx": path or null}
#       -> {"ok": true, "logits": [...], "layout": "NCHW" | "channels_last", "layoutMs": {...}}
#       The faster of NCHW and channels_last (median of 5 runs each) is kept for timing.
#   {"cmd": "time", "reps": n} -> {"ok": true, "times": [ms...]} (a 100 ms pause and one
#       untimed run first, as runner.js does for every runtime)
#   {"cmd": "exit"}
import json
import os
import struct
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_serve import serve  # noqa: E402

state = {}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            raise ValueError(f"{name}: expected F32 but received {meta['dtype']}")
        b, e = meta["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[base + b : base + e]), dtype=torch.float32).reshape(meta["shape"])
    return out


def median(v):
    s = sorted(v)
    return s[len(s) // 2]


def prepare(m):
    torch.set_num_threads(int(m["threads"]))
    model = getattr(torchvision.models, m["model"])()
    missing, unexpected = model.load_state_dict(load_safetensors(m["weights"]), strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    n, size = int(m["batch"]), int(m["size"])
    x = torch.from_file(m["input"], shared=False, size=n * 3 * size * size, dtype=torch.float32).reshape(n, 3, size, size)
    with torch.no_grad():
        if m.get("onnx"):
            torch.onnx.export(model, x, m["onnx"], input_names=["x"], output_names=["logits"], opset_version=13)
        logits = model(x)
        layout_ms = {}
        variants = {"NCHW": (model, x)}
        cl_model = getattr(torchvision.models, m["model"])()
        cl_model.load_state_dict(model.state_dict())
        cl_model = cl_model.eval().to(memory_format=torch.channels_last)
        variants["channels_last"] = (cl_model, x.contiguous(memory_format=torch.channels_last))
        for name, (mod, inp) in variants.items():
            for _ in range(2):
                mod(inp)
            ts = []
            for _ in range(5):
                t0 = time.perf_counter()
                mod(inp)
                ts.append((time.perf_counter() - t0) * 1000)
            layout_ms[name] = median(ts)
    layout = min(layout_ms, key=layout_ms.get)
    mod, inp = variants[layout]
    state["run"] = lambda: mod(inp)
    return {"logits": logits.reshape(-1).tolist(), "layout": layout, "layoutMs": layout_ms, "version": torch.__version__}


def time_block(m):
    run = state["run"]
    time.sleep(0.1)
    times = []
    with torch.no_grad():
        run()
        for _ in range(int(m["reps"])):
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1000)
    return {"times": times}


serve({"prepare": prepare, "time": time_block})
