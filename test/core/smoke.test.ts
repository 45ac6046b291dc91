import { describe, expect, it } from 'vitest';
import { tensor } from '@wedge/core';

describe('a first tape', () => {
  it('gives d(a·b)/da = b for scalars', () => {
    const a = tensor(3, { requiresGrad: true });
    const b = tensor(4, { requiresGrad: true });
    a.mul(b).backward();
    expect(a.grad!.item()).toBe(4);
    expect(b.grad!.item()).toBe(3);
  });
});
