// Node entry of the consumer: trains (train.ts), then writes and reads a checkpoint file through the
// Node-only entry, and prints one JSON line for the test to check.
import { loadSafetensors, saveSafetensors } from '@wedge/core/node';
import { tensor } from '@wedge/core';
import { train } from './train.js';

const summary = train();
const file = 'ckpt.safetensors'; // in the working directory
saveSafetensors(file, { w: tensor([[1, 2], [3, 4]]) }, { from: 'consumer' });
const back = loadSafetensors(file);
console.log(JSON.stringify({ ...summary, fileRoundTrip: back.metadata.from === 'consumer' && back.tensors.w?.toArray() }));
