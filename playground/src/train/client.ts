// The main thread's handle on the training worker: one Worker, messages fanned out to listeners.
import type { ToMain, ToWorker } from './protocol.ts';

type Listener = (message: ToMain) => void;

export class TrainerClient {
  private readonly worker: Worker;
  private readonly listeners = new Set<Listener>();
  /** The last 'backends' and 'started' messages, for panels that subscribe late. */
  last: { backends?: Extract<ToMain, { type: 'backends' }>; started?: Extract<ToMain, { type: 'started' }> } = {};

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'wedge-trainer' });
    this.worker.onmessage = (event: MessageEvent<ToMain>) => {
      const m = event.data;
      if (m.type === 'backends') this.last.backends = m;
      if (m.type === 'started') this.last.started = m;
      for (const listener of this.listeners) listener(m);
    };
    this.worker.onerror = (event) => {
      for (const listener of this.listeners) listener({ type: 'error', message: `training worker: ${event.message}` });
    };
  }

  send(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  on(listener: Listener): void {
    this.listeners.add(listener);
  }
}
