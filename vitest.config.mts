import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons with their own thread pools: separate processes are the
    // honest model of how users load them.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Fresh op outputs are not zero-filled (lib/tensor.ts outputArray); in the suite they start as NaN, so a
    // kernel that leaves an element unwritten fails its comparison with the reference instead of passing on zeros.
    env: { RESNEXT_POISON_OUTPUTS: '1' },
  },
});
