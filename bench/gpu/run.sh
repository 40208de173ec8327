#!/usr/bin/env bash
# The GPU check, in one script, for a bare H200 host with no network and no
# Node: unpacks the Node and node_modules that bench/gpu/pack.sh put in .gpu/,
# builds the CUDA addon against the cuDNN of the host's Python (PyTorch's
# nvidia/cudnn), runs the GPU test suite, benchmarks the grouped layers (ours vs
# cuDNN vs PyTorch) and whole resnext50_32x4d forwards (ours eager and CUDA
# graph at batch 1, float16 batch 256, vs PyTorch eager channels_last), and
# writes results.json, results.md, tests.log, build.log and the raw timings to
# OUTDIR. Every step has a time cap, cut further so the whole script ends by
# DEADLINE seconds (default 450: 7.5 minutes). See bench/gpu/README.md.
#
# PyTorch is timed eager and with the forward captured into a CUDA graph, and
# torch.compile(mode="reduce-overhead") is tried when there is time left.
#
#   bash bench/gpu/run.sh OUTDIR [--quick | --tests-only | --dry-run]
#   --dry-run: on a machine without a GPU, every step but the build and the GPU
#   tests against the fake addon (test/helpers/fake_cuda_addon.js), small
#   layers and a tiny network, PyTorch on the CPU (/usr/bin/python3 when it has
#   torch): checks the scripts and the report end to end in about a minute.
set -uo pipefail
out=${1:?usage: bash bench/gpu/run.sh OUTDIR [--quick | --tests-only | --dry-run]}
quick=${2:-}
tests_only=""
dry=""
if [ "$quick" = "--tests-only" ]; then tests_only=1; quick=""; fi
if [ "$quick" = "--dry-run" ]; then dry=1; quick=""; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/../.."
t0=$(date +%s)
step() { echo "== [$(($(date +%s) - t0)) s] $*"; }
deadline=${DEADLINE:-450}
# cap SECONDS: SECONDS, or what is left before the deadline if less (at least 5).
cap() {
  local left=$((deadline - ($(date +%s) - t0)))
  local c=$1
  [ "$left" -lt "$c" ] && c=$left
  [ "$c" -lt 5 ] && c=5
  echo "$c"
}
work=/tmp/resnext-gpu
rm -rf "$work/xcheck"
mkdir -p "$work/xcheck"

if [ -n "$dry" ]; then
  step "dry run (no GPU): fake addon, small layers, tiny network, PyTorch on the CPU"
  export RESNEXT_CUDA_ADDON="$PWD/test/helpers/fake_cuda_addon.js" RESNEXT_GPU_BENCH_TINY=1
  py=python3
  /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null && py=/usr/bin/python3
  echo "dry run on $(hostname): no GPU; fake addon; $($py -c 'import torch; print("torch", torch.__version__)' 2>&1 | tail -1)" > "$out/env.txt"
  [ -f dist/cjs/index.js ] || node scripts/build-ts.js >/dev/null
  echo "(dry run: GPU tests not run)" > "$out/tests.log"
  node bench/gpu/bench_layers.js --out "$out/ours.json" --xcheck "$work/xcheck" || echo "bench_layers failed"
  node -e "const l=require('./bench/gpu/layers'); console.log(JSON.stringify({layers: l.LAYERS, batches: l.BATCHES}))" > "$work/layers.json"
  if $py -c 'import torch' 2>/dev/null; then
    timeout 300 $py bench/gpu/bench_torch.py --layers "$work/layers.json" --out "$out/torch.json" --xcheck "$work/xcheck" --network --dry-run --compile 60 ||
      echo "bench_torch failed"
  else
    echo "no torch in $py: PyTorch side not run"
  fi
  node bench/gpu/bench_network.js --tiny --out "$out/network.json" --budget 120 --quick || echo "bench_network failed"
  node bench/gpu/report.js --ours "$out/ours.json" --torch "$out/torch.json" --network "$out/network.json" --tests "$out/tests.log" --env "$out/env.txt" --out "$out" | tail -40
  step "done (--dry-run): $(ls "$out" | tr '\n' ' ')"
  exit 0
fi

step "node"
if [ -f .gpu/node.xz ] && ! node --version >/dev/null 2>&1; then
  unpack=""
  for p in shared/gpu/unpack-node.sh ../shared/gpu/unpack-node.sh; do [ -f "$p" ] && unpack=$p && break; done
  if [ -n "$unpack" ]; then
    # shellcheck disable=SC1090
    source "$unpack" .gpu
  else
    # The same steps as shared/gpu/unpack-node.sh, which does not travel with the checkout.
    mkdir -p /tmp/node-offline/bin /tmp/node-offline/include
    xz -dc .gpu/node.xz > /tmp/node-offline/bin/node && chmod +x /tmp/node-offline/bin/node
    tar -C /tmp/node-offline/include -xzf .gpu/node-include.tgz
    export PATH=/tmp/node-offline/bin:$PATH npm_config_nodedir=/tmp/node-offline
  fi
fi
node --version || { echo "no node: run bench/gpu/pack.sh on the CPU machine and carry .gpu"; exit 1; }
if [ ! -d node_modules/vitest ] && [ -f .gpu/node_modules.tar.xz ]; then
  step "node_modules"
  tar -xJf .gpu/node_modules.tar.xz
fi
if [ ! -f dist/cjs/index.js ] && [ -f .gpu/dist.tar.xz ]; then
  step "dist (compiled TypeScript)"
  tar -xJf .gpu/dist.tar.xz
fi

step "environment"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | head -2
  echo "nvcc: $(nvcc --version 2>&1 | tail -2 | head -1)"
  echo "cmake: $(cmake --version 2>&1 | head -1)"
  echo "node: $(node --version)"
  python3 -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1 | tail -1
  python3 -c 'import nvidia.cudnn as m; print("cudnn at", list(m.__path__)[0])' 2>&1 | tail -1
} | tee "$out/env.txt"

# cuDNN 9 opens its sub-libraries (graph, engines, ...) and their CUDA
# dependencies by name at run time; PyTorch preloads them, a Node process does
# not, so every nvidia/*/lib folder of python3's environment goes on the path.
nvlibs=$(python3 -c 'import site, glob; print(":".join(d for p in site.getsitepackages() for d in sorted(glob.glob(p + "/nvidia/*/lib"))))' 2>/dev/null)
[ -n "$nvlibs" ] && export LD_LIBRARY_PATH="$nvlibs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}" | tee -a "$out/env.txt"
ls -d $(echo "$nvlibs" | tr ':' ' ') 2>/dev/null | head -30 >> "$out/env.txt"

step "build the CUDA addon (cmake-js, all cores)"
rm -rf build-cuda
RESNEXT_CUDA=1 RESNEXT_CUDA_JOBS=$(nproc) timeout "$(cap 200)" node scripts/build-cuda.js 2>&1 | tee "$work/build-summary.txt"
cp build-cuda/build.log "$out/build.log" 2>/dev/null || true
if [ ! -f build-cuda/Release/resnext_cuda.node ]; then
  step "build failed; see build.log"
  node bench/gpu/report.js --tests /dev/null --env "$out/env.txt" --out "$out" >/dev/null
  exit 1
fi
node -e "const p=require('./build-cuda/Release/resnext_cuda.node').probe(); console.log(JSON.stringify(p))" | tee -a "$out/env.txt"

step "GPU tests (test/cuda.test.ts, cuda_emulate, cuda_loader)"
timeout "$(cap 120)" node node_modules/vitest/vitest.mjs run test/cuda.test.ts test/cuda_emulate.test.ts test/cuda_loader.test.ts --reporter=verbose 2>&1 | tee "$out/tests.log" | tail -40

if [ -n "$tests_only" ]; then
  step "done (--tests-only): $(ls "$out" | tr '\n' ' ')"
  exit 0
fi

step "layers: ours and cuDNN"
timeout "$(cap 110)" node bench/gpu/bench_layers.js --out "$out/ours.json" --xcheck "$work/xcheck" $quick

step "layers and network: PyTorch"
node -e "const l=require('./bench/gpu/layers'); console.log(JSON.stringify({layers: l.LAYERS, batches: l.BATCHES}))" > "$work/layers.json"
# torch.compile only if it can start within 60 s of this step (it compiles for a minute or more).
torchcap=$(cap 150)
PYTHONUNBUFFERED=1 timeout "$torchcap" python3 bench/gpu/bench_torch.py --layers "$work/layers.json" --out "$out/torch.json" --xcheck "$work/xcheck" --network --compile $((torchcap > 120 ? 60 : 0)) $quick

step "network: ours (resnext50_32x4d, batch 1 eager and graph, batch 256 float16)"
netcap=$(cap 120)
timeout "$netcap" node bench/gpu/bench_network.js --out "$out/network.json" --budget $((netcap - 5)) $quick

step "report"
node bench/gpu/report.js --ours "$out/ours.json" --torch "$out/torch.json" --network "$out/network.json" --tests "$out/tests.log" --env "$out/env.txt" --out "$out" | tail -60
step "done: $(ls "$out" | tr '\n' ' ')"
