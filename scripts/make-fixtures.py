#!/usr/bin/python3
# Regenerates the small PyTorch / ONNX fixtures under test/fixtures/ with
# torch 1.13 and torchvision 0.14 (Debian's python3-torch, in /usr/bin/python3):
#   torch/*.pth         torch.save files: dtypes, views, nesting, prefixes, legacy format
#   torch/expected.json what each .pth must load as (row-major float32 values)
#   tiny_resnet.onnx    torch.onnx.export (opset 13, dynamic batch) of a tiny
#                       torchvision-style ResNeXt (Bottleneck blocks, groups 2)
#   tiny_resnet_*.onnx  exporter variants: BN nodes kept, Reshape flatten (fixed and dynamic batch)
#   tiny_resnet.json    its input and torch's logits, and its state dict as .pth
#   pooling.json        torch's max_pool2d / avg_pool2d outputs for odd cases
# Usage: /usr/bin/python3 scripts/make-fixtures.py   (from the repository root)

import json
import math
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import Bottleneck

warnings.filterwarnings("ignore")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
TORCH_DIR = os.path.join(ROOT, "torch")
os.makedirs(TORCH_DIR, exist_ok=True)
torch.manual_seed(0)


def values(t):
    # Non-finite values as strings ("inf", "nan"): JSON has no literal for them; Number() reads them back.
    data = [v if math.isfinite(v) else str(v).replace("inf", "Infinity").replace("nan", "NaN") for v in t.detach().float().contiguous().reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": data}


expected = {}


def save(name, obj, tensors):
    torch.save(obj, os.path.join(TORCH_DIR, name))
    expected[name] = {k: values(v) for k, v in tensors.items()}


# One dict per storage dtype.
f32 = {"conv.weight": torch.randn(2, 3, 3, 3), "conv.bias": torch.randn(2)}
save("float32.pth", f32, f32)
f16 = {"w": torch.randn(4, 5).half(), "b": torch.tensor([1e-5, 65504.0, -2.0, float("inf")]).half()}
save("float16.pth", f16, f16)
bf = {"w": torch.randn(3, 7).bfloat16(), "b": torch.tensor([1e30, -3.5, 0.0]).bfloat16()}
save("bfloat16.pth", bf, bf)
# int64: num_batches_tracked is dropped, any other int64 tensor becomes float32.
i64 = {
    "bn.weight": torch.rand(3),
    "bn.running_mean": torch.randn(3),
    "bn.num_batches_tracked": torch.tensor(7),
    "index": torch.tensor([-3, 0, 5, 1 << 20]),
}
save("int64.pth", i64, {k: v for k, v in i64.items() if k != "bn.num_batches_tracked"})

# Views: offsets, transposes, strided slices, shared storage, a 0-d and an empty tensor.
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = {
    "base": base,
    "row": base[2],
    "transposed": base.t(),
    "every_other": base[1:, ::2],
    "narrow": base[:, 3:5],
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
    "half_view": torch.arange(10, dtype=torch.float16)[3:9:2],
}
save("views.pth", views, views)

# Checkpoints: nested under 'state_dict' or 'model', with other entries beside it.
inner = {"fc.weight": torch.randn(3, 4), "fc.bias": torch.randn(3)}
save("nested_state_dict.pth", {"epoch": 3, "arch": "tiny", "best_acc": 0.5, "state_dict": inner, "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}}, inner)
save("nested_model.pth", {"model": inner, "epoch": 1}, inner)
# DataParallel checkpoints: every key starts with 'module.'.
save("module_prefix.pth", {"module." + k: v for k, v in inner.items()}, inner)
# nn.Module.state_dict() (OrderedDict with _metadata, Parameters are plain tensors in it).
lin = nn.Linear(4, 2)
save("module_state_dict.pth", lin.state_dict(), dict(lin.state_dict()))
# The legacy (pre-1.6) format: pickles back to back, storages appended.
legacy = {"w": base[1:, ::2], "h": torch.arange(5, dtype=torch.float16)[1:], "b": torch.randn(3).bfloat16()}
torch.save(legacy, os.path.join(TORCH_DIR, "legacy.pth"), _use_new_zipfile_serialization=False)
expected["legacy.pth"] = {k: values(v) for k, v in legacy.items()}
# Not a state dict: a pickled model object references globals that are refused.
torch.save(nn.ReLU(), os.path.join(TORCH_DIR, "module_object.pth"))

with open(os.path.join(TORCH_DIR, "expected.json"), "w") as f:
    json.dump(expected, f)


# A tiny ResNeXt with torchvision's blocks: stem 7x7/2 + BN + ReLU + maxpool 3x3/2,
# two Bottleneck blocks (groups 2, the second with stride 2 and a downsample), avgpool, fc.
class TinyResNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        down = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
        self.layer1 = nn.Sequential(Bottleneck(8, 2, groups=2, base_width=64), Bottleneck(8, 4, stride=2, downsample=down, groups=2, base_width=32))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


tiny = TinyResNeXt()
with torch.no_grad():
    for m in tiny.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.0)
            m.bias.uniform_(-0.1, 0.1)
tiny.eval()
x = torch.randn(2, 3, 19, 23)
with torch.no_grad():
    logits = tiny(x)
torch.onnx.export(
    tiny,
    x,
    os.path.join(ROOT, "tiny_resnet.onnx"),
    opset_version=13,
    input_names=["input"],
    output_names=["logits"],
    dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
)
# Exporter variants of the same network: BatchNormalization nodes kept (TrainingMode.PRESERVE without constant
# folding), and a Reshape flatten (x.reshape(N, -1)): with a fixed batch it is a Constant shape, with a dynamic
# batch the exporter computes it (Shape, Gather, Unsqueeze, Concat), which loadOnnx refuses naming those ops.
torch.onnx.export(tiny, x, os.path.join(ROOT, "tiny_resnet_bn.onnx"), opset_version=13, input_names=["input"], output_names=["logits"],
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


class TinyReshape(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        y = n.avgpool(n.layer1(n.maxpool(n.relu(n.bn1(n.conv1(x))))))
        return n.fc(y.reshape(y.shape[0], -1))


torch.onnx.export(TinyReshape(tiny).eval(), x, os.path.join(ROOT, "tiny_resnet_reshape.onnx"), opset_version=13, input_names=["input"], output_names=["logits"])
torch.onnx.export(TinyReshape(tiny).eval(), x, os.path.join(ROOT, "tiny_resnet_dynamic_reshape.onnx"), opset_version=13, input_names=["input"],
                  output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
torch.save(tiny.state_dict(), os.path.join(TORCH_DIR, "tiny_resnet.pth"))
with open(os.path.join(ROOT, "tiny_resnet.json"), "w") as f:
    json.dump({"input": values(x), "logits": values(logits)}, f)

# Pooling with torch's semantics: padding pairs with zeros, ceil_mode, count_include_pad.
pool_cases = []
xin = torch.randn(2, 3, 7, 9)
for k, s, p, ceil in [((3, 3), (2, 2), (1, 0), False), ((3, 2), (2, 2), (0, 1), True), ((2, 2), (2, 2), (0, 0), True), ((3, 3), (1, 2), (1, 1), True), ((1, 1), (3, 3), (0, 0), True), ((3, 3), (2, 3), (1, 1), False)]:
    out = F.max_pool2d(xin, k, s, p, ceil_mode=ceil)
    pool_cases.append({"op": "max", "kernelSize": list(k), "stride": list(s), "padding": list(p), "ceilMode": ceil, "output": values(out)})
    for cip in [True, False]:
        out = F.avg_pool2d(xin, k, s, p, ceil_mode=ceil, count_include_pad=cip)
        pool_cases.append({"op": "avg", "kernelSize": list(k), "stride": list(s), "padding": list(p), "ceilMode": ceil, "countIncludePad": cip, "output": values(out)})
with open(os.path.join(ROOT, "pooling.json"), "w") as f:
    json.dump({"input": values(xin), "cases": pool_cases}, f)
print("fixtures written to", os.path.normpath(ROOT))
