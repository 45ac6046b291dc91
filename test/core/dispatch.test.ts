// The dispatcher's fallback chain (active → CPU engine → CPU reference) and kernels declared for a
// backend by name from outside core (registerKernel), before or after the backend registers.
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Backend, CpuStorage, Tensor, fallbackChain, getBackend, getCpuEngine, kernelOf, logKernels, registerBackend,
  registerKernel, runKernel, setBackend, setCpuEngine, tensor,
} from '@wedge/core';

const before = { active: getBackend().name, engine: getCpuEngine().name };
afterEach(() => {
  logKernels(null);
  setCpuEngine(before.engine);
  setBackend(before.active);
});

/** A backend that doubles `neg`'s result (so a test sees who ran it) and declines size-1 calls. */
function fakeBackend(name: string): Backend {
  return {
    name,
    kernels: {
      neg: ([x]) => new Tensor(new CpuStorage(Float32Array.from(x.data(), (v) => -2 * v), 'float32'), [...x.shape]),
    },
    accepts: (_k, [x]) => x.size > 1,
  };
}

describe('the dispatcher', () => {
  it('tries the active backend, then the CPU engine, then the CPU reference, and logs why', () => {
    registerBackend(fakeBackend('fakeEngine'));
    registerBackend(fakeBackend('fakeGpu'));
    setCpuEngine('fakeEngine');
    setBackend('fakeGpu');
    expect(fallbackChain().map((b) => b.name)).toEqual(['fakeGpu', 'fakeEngine', 'cpu']);
    const lines: string[] = [];
    logKernels((k, b, why) => lines.push(`${k} → ${b}${why ? ` (${why})` : ''}`));
    expect(runKernel('neg', [tensor([1, 2])], { dtype: 'float32' }).toArray()).toEqual([-2, -4]);
    runKernel('neg', [tensor([3])], { dtype: 'float32' });
    runKernel('exp', [tensor([0])], { dtype: 'float32' });
    expect(lines).toEqual([
      'neg → fakeGpu',
      'neg → cpu (fakeGpu declined; fakeEngine declined)',
      'exp → cpu (fakeGpu has no exp kernel; fakeEngine has no exp kernel)',
    ]);
    setBackend('cpu');
    expect(fallbackChain().map((b) => b.name)).toEqual(['cpu']);
  });

  it('runs a kernel registered by name for a backend that registers later, with the backend as third argument', () => {
    let seen: string | null = null;
    registerKernel('lateBackend', 'twice', ([x], _attrs, backend) => {
      seen = backend.name;
      return x.mul(2);
    });
    registerBackend({ name: 'lateBackend', kernels: {} });
    expect(kernelOf(getBackend(), 'twice')).toBeUndefined();
    setBackend('lateBackend');
    expect(runKernel('twice', [tensor([1.5])]).toArray()).toEqual([3]);
    expect(seen).toBe('lateBackend');
  });

  it('names the kernel when no backend in the chain has it', () => {
    expect(() => runKernel('noSuchKernel', [tensor([1])])).toThrow("noSuchKernel: no kernel 'noSuchKernel' on backend cpu");
  });
});
