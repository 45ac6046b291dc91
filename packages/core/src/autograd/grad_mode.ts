// Whether ops record the graph. Off inside noGrad(), and during backward() unless createGraph.

let enabled = true;

/** Whether ops record the tape now (false inside noGrad()). @example noGrad(() => isGradEnabled()) // false */
export const isGradEnabled = (): boolean => enabled;

/** Run `fn` with graph recording set to `flag`, restoring the previous mode afterwards. */
export function withGradMode<T>(flag: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = flag;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Run `fn` without recording the graph (PyTorch's `torch.no_grad()`).
 * @example const y = noGrad(() => w.mul(2)); // y.requiresGrad === false
 */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);

/**
 * Run `fn` with recording on, even inside noGrad().
 * @example
 * noGrad(() => enableGrad(() => x.mul(w))) // recorded after all
 */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);
