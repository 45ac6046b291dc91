// Loading the PyTorch golden fixtures of @wedge/models (made by scripts/fixtures/models_pytorch.py).
import { fileURLToPath } from 'node:url';
import { type Tensor, cat } from '@wedge/core';
import { loadSafetensors } from '@wedge/core/node';
import { type AttnType, TestModel } from '@wedge/models';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface Fixture {
  tensors: Record<string, Tensor>;
  meta: Record<string, string>;
  /** The entries under `prefix.` with the prefix removed (e.g. 'state' → a state dict). */
  under(prefix: string): Record<string, Tensor>;
}

export function loadFixture(name: string): Fixture {
  const { tensors, metadata } = loadSafetensors(fixturePath(name));
  return {
    tensors,
    meta: metadata,
    under: (prefix) =>
      Object.fromEntries(
        Object.entries(tensors)
          .filter(([k]) => k.startsWith(`${prefix}.`))
          .map(([k, v]) => [k.slice(prefix.length + 1), v]),
      ),
  };
}

/** A Wedge TestModel with the fixture's config and its saved state dict loaded. */
export function modelFromFixture(f: Fixture): TestModel {
  const m = f.meta;
  const model = new TestModel({
    vocab: Number(m.vocab),
    dModel: Number(m.d_model),
    nHead: Number(m.n_head),
    maxLen: Number(m.max_len),
    attnType: m.attn_type as AttnType,
  });
  model.loadStateDict(f.under('state'));
  return model;
}

/** halves [S, B, L/2] → the S copy batches, built as the seed builds them. */
export function batchesFromHalves(halves: Tensor): [Tensor, Tensor][] {
  const [S, , half] = halves.shape;
  const out: [Tensor, Tensor][] = [];
  for (let s = 0; s < S; s++) {
    const h = halves.slice(0, s, s + 1).squeeze(0); // [B, L/2]
    const data = cat([h, h], 1); //                     [B, L]
    out.push([data.slice(1, 0, 2 * half - 1).contiguous(), data.slice(1, 1).contiguous()]);
  }
  return out;
}
