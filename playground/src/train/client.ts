// The main thread's handle on the training worker: one Worker, messages fanned out to listeners.
import type { ToMain, ToWorker } from './protocol.ts';

type Listener = (message: ToMain) => void;

export class TrainerClient {
  private readonly worker: Worker;
  private readonly listeners = new Set<Listener>();

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'wedge-trainer' });
    this.worker.onmessage = (event: MessageEvent<ToMain>) => {
      for (const listener of this.listeners) listener(event.data);
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
