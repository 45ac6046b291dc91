/**
 * The Node-only part of Wedge: safetensors checkpoints by file path (atomic writes).
 * @module @wedge/core/node
 */
// @wedge/core/node: the Node-only part of Wedge (file paths through node:fs). Everything else,
// including encodeSafetensors/decodeSafetensors on bytes, comes from '@wedge/core' and runs anywhere.
export { saveSafetensors, loadSafetensors } from './io/safetensors_node.ts';
