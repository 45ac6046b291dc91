// The playground's page-independent modules, in Node: the expression parser, the backward walk,
// checkpoints as bytes, the training session (equal to the CLI's experiment), attention maps and
// the live resilience table (equal to the seed's).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Generator, decodeSafetensors, encodeSafetensors, noGrad, Tensor, WedgeError, tensor } from '@wedge/core';
import { TestModel, resilienceTable, trainComparison, DEFAULT_TRAIN_CONFIG } from '@wedge/models';
import { ParseError, parse } from '../../playground/src/autodiff/parser.ts';
import { FD_TOLERANCE, trace } from '../../playground/src/autodiff/tape.ts';
import { EXAMPLES } from '../../playground/src/autodiff/examples.ts';
import { PLAYGROUND_DEFAULTS, checkpointBytes, readCheckpoint } from '../../playground/src/train/config.ts';
import { TrainingSession } from '../../playground/src/train/session.ts';
import { attentionMaps, copySource, inductionScore } from '../../playground/src/inside/attention_maps.ts';
import { matchWeight, resilienceRows } from '../../playground/src/resilience/scores.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

describe('playground parser', () => {
  it('reads assignments, precedence, right-associative powers, unary minus and .T', () => {
    const p = parse('a = 2\nb = [[1, 2], [3, -4]]\nc = -a^2^1 * b.T @ b + 1\nsum(c)');
    expect(p.leaves).toEqual(['a', 'b']);
    expect(p.statements).toHaveLength(4);
    const c = p.statements[2].expr;
    expect(c.kind).toBe('binary');
    expect(c.kind === 'binary' && c.op).toBe('add'); // (… @ b) + 1
    const out = trace(p);
    // c = −a^(2^1) · (bᵀ @ b) + 1 = −4·bᵀb + 1; L = Σ c; ∂L/∂a = −2a · Σ bᵀb
    const btb = [10, -10, -10, 20];
    expect(out.loss).toBeCloseTo(-4 * btb.reduce((x, y) => x + y, 0) + 4, 12);
    expect(out.leaves[0].walk[0]).toBeCloseTo(-2 * 2 * btb.reduce((x, y) => x + y, 0), 10);
  });

  it('names the line and column of what it cannot read', () => {
    const at = (src: string): [number, number, string] => {
      try {
        parse(src);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        const pe = e as ParseError;
        return [pe.line, pe.column, pe.message];
      }
      throw new Error(`parsed: ${src}`);
    };
    expect(at('x = 2\ny = x +')).toEqual([2, 8, "line 2, column 8: expected a number, a name, '[' or '(' but found 'end of input'"]);
    expect(at('x = 1\nfoo(x)')[2]).toMatch(/unknown function 'foo'/);
    expect(at('x = 1\ny * x')[2]).toBe("line 2, column 1: 'y' is not defined yet (give it a value on an earlier line, e.g. y = 1.5)");
    expect(at('x = [[1, 2], [3]]')[2]).toMatch(/ragged array/);
    expect(at('x = 1\nx.constructor')[2]).toBe("line 2, column 2: unexpected '.': only .T (transpose) may follow a value");
    expect(at('x = 1; alert`1`')[2]).toMatch(/unexpected character '`'/);
    expect(at('y = 2 * 3')[2]).toMatch(/nothing to differentiate/);
    expect(at('x = 1\nx\nx')[2]).toBe('line 2, column 1: only the last line may be a bare expression; name this one (e.g. y = x)');
  });
});

describe('playground backward walk', () => {
  it('gives ∂/∂a = b + 2a and ∂/∂b = a for a·b + a²', () => {
    const t = trace(parse('a = 3\nb = -2\nc = a*b + a^2\nc'));
    expect(t.loss).toBe(3);
    expect(t.leaves.map((l) => [l.name, l.walk[0], l.engine[0]])).toEqual([['a', 4, 4], ['b', 3, 3]]);
    for (const l of t.leaves) expect(Math.abs(l.numeric[0] - l.walk[0])).toBeLessThan(1e-7);
    expect(t.steps[0]).toMatchObject({ label: 'c', op: 'add', gOut: [1] });
    expect(t.steps.at(-1)?.op).toBeNull(); // ends at a leaf
  });

  it.each(EXAMPLES.map((e) => [e.title, e.source]))('%s: every node agrees with finite differences, the leaves with backward()', (_title, source) => {
    const t = trace(parse(source));
    expect(t.steps.length).toBeGreaterThan(2);
    for (const s of t.steps) {
      if (s.numeric !== null) expect(s.error, `${s.label} (${s.op})`).toBeLessThanOrEqual(FD_TOLERANCE);
    }
    for (const l of t.leaves) {
      l.walk.forEach((g, k) => {
        expect(Math.abs(g - l.engine[k])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(g)));
        expect(Math.abs(g - l.numeric[k])).toBeLessThanOrEqual(FD_TOLERANCE * (1 + Math.abs(g)));
      });
    }
    expect(t.dot).toMatch(/^digraph wedge \{/);
  });

  it('walks the chain-rule example through the expand matmul makes, unbroadcasting W and b once', () => {
    const t = trace(parse(EXAMPLES[0].source));
    const ops = t.steps.map((s) => s.op);
    expect(ops).toContain('expand');
    const expand = t.steps.find((s) => s.op === 'expand')!;
    expect(expand.numeric).toBeNull(); // made inside matmul: no expression of the user's
    const z = t.steps.find((s) => s.label === 'z')!;
    expect(z.sends.find((g) => g.label === 'b')).toMatchObject({ unbroadcast: true, shape: [2] });
    // z is consumed by tanh and by mul: it is visited once, after both have sent it their part
    expect(t.steps.filter((s) => s.label === 'z')).toHaveLength(1);
  });

  it('reports an op’s shape error as Wedge words it', () => {
    expect(() => trace(parse('a = [1, 2]\nb = [1, 2, 3]\na + b'))).toThrow(WedgeError);
    expect(() => trace(parse('a = [1, 2]\nb = [1, 2, 3]\na + b'))).toThrow(/\[2\].*\[3\]/);
  });
});

describe('playground checkpoints', () => {
  it('writes the CLI’s metadata and reads back into a strict TestModel', () => {
    const model = new TestModel({ vocab: 16, dModel: 32, nHead: 2, maxLen: 32, attnType: 'triple', generator: new Generator(5) });
    const bytes = checkpointBytes(model, PLAYGROUND_DEFAULTS, 120);
    const info = readCheckpoint(bytes);
    expect(info).toMatchObject({ attnType: 'triple', vocab: 16, dModel: 32, nHead: 2, maxLen: 32 });
    expect(info.metadata).toMatchObject({ format: 'pt', attn_type: 'triple', vocab: '16', d_model: '32', n_head: '2', max_len: '32', steps: '120' });
    for (const [k, t] of Object.entries(model.stateDict())) expect(Array.from(info.tensors[k].data())).toEqual(Array.from(t.data()));
  });

  it('reads a PyTorch-made state dict (the seed’s TestModel, from the committed fixture)', () => {
    const { tensors, metadata } = decodeSafetensors(readFileSync(`${FIXTURES}models_small_standard.safetensors`));
    const state: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(tensors)) if (k.startsWith('state.')) state[k.slice(6)] = t;
    const info = readCheckpoint(encodeSafetensors(state, { attn_type: metadata.attn_type }), 'torch.safetensors');
    expect(info).toMatchObject({ attnType: 'standard', vocab: 11, dModel: 16, nHead: 2, maxLen: 10 });
  });

  it('refuses a checkpoint whose metadata and tensors disagree, or that misses a key', () => {
    const model = new TestModel({ vocab: 8, dModel: 8, nHead: 2, maxLen: 8, attnType: 'standard' });
    const state = model.stateDict();
    expect(() => readCheckpoint(encodeSafetensors(state, { n_head: '4' }), 'x.safetensors')).toThrow(
      'load checkpoint: x.safetensors: its metadata says n_head = 4 but its tensors say 2',
    );
    const { ['unembed.weight']: _dropped, ...partial } = state;
    expect(() => readCheckpoint(encodeSafetensors(partial))).toThrow(/unembed\.weight/);
  });
});

describe('playground training session', () => {
  it('gives the CLI experiment’s losses and accuracies step for step (same seeds, same batches)', () => {
    const c = { ...PLAYGROUND_DEFAULTS, steps: 4, evalEvery: 2, evalSize: 16, dModel: 16, seqLen: 12, batchSize: 4 };
    const s = new TrainingSession(c);
    const losses: Record<string, number[]> = { standard: [], triple: [] };
    const evals: Record<string, number[]> = { standard: [s.evaluate().standard.copyAccuracy], triple: [s.evaluate().triple.copyAccuracy] };
    while (!s.done) {
      const { loss } = s.trainStep();
      losses.standard.push(loss.standard);
      losses.triple.push(loss.triple);
      if (s.step % c.evalEvery === 0) {
        const e = s.evaluate();
        evals.standard.push(e.standard.evalLoss);
        evals.triple.push(e.triple.evalLoss);
      }
    }
    const cli = trainComparison({ ...DEFAULT_TRAIN_CONFIG, ...c, attnTypes: ['standard', 'triple'] });
    for (const m of cli.models) {
      expect(losses[m.attnType]).toEqual(m.trainLosses);
      expect(evals[m.attnType].slice(1)).toEqual(m.history.slice(1).map((p) => p.evalLoss));
      expect(evals[m.attnType][0]).toBe(m.history[0].copyAccuracy);
    }
  });

  it('starts from checkpoint bytes: step 0 scores what the saved model scored', () => {
    const c = { ...PLAYGROUND_DEFAULTS, steps: 3, evalSize: 16, dModel: 16, seqLen: 12, batchSize: 4 };
    const a = new TrainingSession(c);
    for (let i = 0; i < 3; i++) a.trainStep();
    const saved = a.evaluate();
    const b = new TrainingSession({ ...c, seed: 9 }, { standard: checkpointBytes(a.models.standard, c, 3), triple: checkpointBytes(a.models.triple, c, 3) });
    // a different seed draws a different eval set, so compare on a's: load b's weights into a fresh session with a's seed
    const again = new TrainingSession(c, { standard: checkpointBytes(b.models.standard, c, 0), triple: checkpointBytes(b.models.triple, c, 0) });
    const scores = (e: typeof saved) => [e.standard.evalLoss, e.standard.copyAccuracy, e.triple.evalLoss, e.triple.copyAccuracy];
    expect(scores(again.evaluate())).toEqual(scores(saved));
    expect(scores(b.evaluate())).not.toEqual(scores(saved)); // b's own eval set differs: the check above can fail
  });
});

describe('playground loud-key probe', () => {
  it('probes both models at the seed’s magnitudes; m = 0 is the unperturbed model’s copy accuracy', () => {
    const s = new TrainingSession({ ...PLAYGROUND_DEFAULTS, steps: 2, evalSize: 8, dModel: 16, seqLen: 12, batchSize: 4 });
    s.trainStep();
    const rows = s.probe();
    const e = s.evaluate();
    for (const a of ['standard', 'triple'] as const) {
      expect(rows[a].map((r) => r.magnitude)).toEqual([0, 1, 5, 10, 50, 100]);
      expect(rows[a][0].copyAccuracy).toBeCloseTo(e[a].copyAccuracy, 12);
      for (const r of rows[a]) expect(r.attentionMass).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('playground attention maps', () => {
  it.each(['standard', 'triple'] as const)('%s: the weights reproduce the layer’s own output, rows sum to 1, the future gets 0', (attnType) => {
    const model = new TestModel({ vocab: 10, dModel: 16, nHead: 2, maxLen: 12, attnType, generator: new Generator(1) });
    const ids = [3, 1, 4, 1, 5, 9, 2, 6, 3, 1, 4];
    const maps = attentionMaps(model, ids);
    const T = ids.length;
    const expected = noGrad(() => model.attn.forward(model.embed.forward(Tensor.fromArray(Int32Array.from(ids), [1, T], 'int32'))));
    const got = maps.output.data();
    expect(got.length).toBe(expected.size);
    expected.data().forEach((v, k) => expect(Math.abs(v - got[k])).toBeLessThan(1e-6));
    for (let h = 0; h < maps.heads; h++) {
      for (let i = 0; i < T; i++) {
        let row = 0;
        for (let j = 0; j < T; j++) {
          const w = maps.weights[(h * T + i) * T + j];
          if (j > i) expect(w).toBe(0);
          row += w;
        }
        expect(row).toBeCloseTo(1, 5);
      }
    }
    if (attnType === 'triple') expect(maps.gramScore![(0 * T + 2) * T + 1]).toBeLessThanOrEqual(0);
    else expect(maps.gramScore).toBeUndefined();
  });

  it('scores the induction pattern: 1 for a model that reads exactly the copy source', () => {
    const T = 7;
    const L = 8;
    const weights = new Float32Array(T * T);
    for (let t = 0; t < T; t++) weights[t * T + (copySource(t, L) ?? 0)] = 1;
    expect(inductionScore({ attnType: 'standard', heads: 1, T, weights, output: tensor(0) }, L)).toBe(1);
    expect(copySource(40, 64)).toBe(9);
  });
});

describe('playground resilience', () => {
  it('is the seed’s table at leak 0.1', () => {
    const seed = resilienceTable();
    const live = resilienceRows(0.1);
    expect(live.map((r) => [r.magnitude, r.dot, r.gram])).toEqual(seed.map((r) => [r.magnitude, r.dot, r.gram]));
  });

  it('lets the dot product pick the loud key once it leans past the true match, never the Gram score', () => {
    const [match] = resilienceRows(0);
    const loud = resilienceRows(1.0)[3]; // m = 10
    expect(loud.dot).toBeCloseTo(1, 6);
    expect(loud.gram).toBeCloseTo(-100, 3);
    expect(matchWeight(match.dot, loud.dot)).toBeLessThan(0.5);
    expect(matchWeight(match.gram, loud.gram)).toBeGreaterThan(0.99);
  });
});
