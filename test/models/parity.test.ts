// PyTorch parity: the seed's model and Wedge's start from the same checkpoint, see the same 50
// batches and take the same Adam steps; the loss of every step must agree.
import { describe, expect, it } from 'vitest';
import { Adam } from '@wedge/core';
import { trainStep } from '@wedge/models';
import { batchesFromHalves, loadFixture, modelFromFixture } from './fixtures.ts';

/** The bound: float32 on both sides, summed in different orders, over 50 Adam steps (seen: 4.8e-7). */
export const PARITY_ATOL = 1e-5;

describe.each(['standard', 'triple'])('PyTorch parity, %s attention', (attnType) => {
  it(`matches the seed's loss at every one of 50 Adam steps (|Δ| ≤ ${PARITY_ATOL})`, () => {
    const f = loadFixture(`models_parity_${attnType}.safetensors`);
    const model = modelFromFixture(f);
    const opt = new Adam(model.parameters(), { lr: Number(f.meta.lr) });
    const expected = Array.from(f.tensors.losses.data());
    const batches = batchesFromHalves(f.tensors.halves);
    expect(batches.length).toBe(50);
    const got = batches.map(([inputs, targets]) => trainStep(model, opt, inputs, targets));
    const worst = Math.max(...got.map((l, i) => Math.abs(l - expected[i])));
    expect(worst).toBeLessThanOrEqual(PARITY_ATOL);
    // and training did something: the loss moved well beyond the bound
    expect(expected[0] - expected[49]).toBeGreaterThan(100 * PARITY_ATOL);
  });
});
