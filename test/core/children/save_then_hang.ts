// A child for safetensors.test.ts: starts saveSafetensors(path) and hangs inside it, after the temp
// file is open and its header written, so the parent can kill -9 it mid-save.
import { Tensor, zeros } from '@wedge/core';
import { saveSafetensors } from '@wedge/core/node';

/** A tensor whose values never come: the save blocks while encoding it. */
class Stuck extends Tensor {
  override data(): never {
    process.stdout.write('writing\n');
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

const t = zeros([4]);
saveSafetensors(process.argv[2], { w: new Stuck(t.storage, t.shape) });
