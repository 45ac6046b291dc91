// Preset programs for the Autodiff panel. The first is the chain-rule example's expression
// (examples/chain_rule.ts: L = Σ tanh(z)·z with z = x @ W + b), with small fixed numbers.
export const EXAMPLES: { title: string; source: string }[] = [
  {
    title: 'chain rule: Σ tanh(z)·z, z = x @ W + b (examples/chain_rule.ts)',
    source: [
      '# x [2, 2, 3] @ W [3, 2] + b [2]: W is broadcast over the batch, b over batch and rows',
      'x = [[[0.3, -1.2, 0.5], [1.1, 0.4, -0.7]], [[-0.2, 0.9, 1.5], [0.6, -0.3, 0.8]]]',
      'W = [[0.5, -1.0], [0.25, 0.75], [-0.6, 0.4]]',
      'b = [0.1, -0.2]',
      'h = x @ W',
      'z = h + b',
      't = tanh(z)',
      'p = t * z     # z feeds two paths: its gradients add up',
      'sum(p)',
    ].join('\n'),
  },
  {
    title: 'a neuron: tanh(x1·w1 + x2·w2 + b) (micrograd’s example)',
    source: ['x1 = 2.0', 'x2 = 0.0', 'w1 = -3.0', 'w2 = 1.0', 'b = 6.8813735870195432', 'n = x1*w1 + x2*w2 + b', 'tanh(n)'].join('\n'),
  },
  {
    title: 'one variable on two paths: a·b + a²',
    source: ['a = 3', 'b = -2', 'c = a*b + a^2', 'c'].join('\n'),
  },
  {
    title: 'softmax cross-entropy: −Σ y · log softmax(z)',
    source: ['z = [2.0, -1.0, 0.5, 0.1]', 'y = [0, 0, 1, 0]', 'p = softmax(z)', '-sum(y * log(p))'].join('\n'),
  },
  {
    title: 'a norm and a division: √(a² + b²) / a',
    source: ['a = 1.5', 'b = -0.8', 'r = sqrt(a^2 + b^2)', 'r / a'].join('\n'),
  },
];
