#!/usr/bin/env bash
# Run HERE (the CPU machine), once before a GPU session: packs what the bare
# GPU host lacks into .gpu/ (ignored by git, named in the device tool's carry):
#   node.xz, node-include.tgz   this machine's Node and its Node-API headers (../shared/gpu/pack-node.sh)
#   node_modules.tar.xz         node_modules without the packages the GPU check never loads
#   dist.tar.xz                 the compiled TypeScript (dist/), for bench_network.js's whole-model timings
# The working tree plus carried paths must stay under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.gpu
packer=""
for p in shared/gpu/pack-node.sh ../shared/gpu/pack-node.sh; do [ -f "$p" ] && packer=$p && break; done
[ -n "$packer" ] || { echo "pack-node.sh not found (expected ../shared/gpu/pack-node.sh)" >&2; exit 1; }
bash "$packer" "$dest" >/dev/null
# onnxruntime-node (288 MB) and typescript are not used by the GPU tests or benchmarks.
tar --exclude=node_modules/onnxruntime-node --exclude=node_modules/onnxruntime-common --exclude=node_modules/typescript \
  --exclude='node_modules/.cache' -cf - node_modules | xz -T0 -6 > "$dest/node_modules.tar.xz"
# typescript is not packed, so the whole-model benchmark takes the package compiled here.
npm run build:ts >/dev/null
tar -cf - dist | xz -T0 -6 > "$dest/dist.tar.xz"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
du -sh "$dest"/*
echo "carry: [\".gpu\"]; command: bash bench/gpu/run.sh \"\$OUT\""
