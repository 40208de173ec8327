// Imported first by test/cuda_fake.test.ts: points the CUDA loader at the CPU
// stand-in before anything asks for the addon (the loader caches its result).
import * as path from 'node:path';

process.env.RESNEXT_CUDA_ADDON = path.join(__dirname, 'fake_cuda_addon.js');
process.env.FAKE_CUDNN = '1';
