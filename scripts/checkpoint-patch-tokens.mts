// Cross-check helper (with scripts/check-checkpoint-torch.py): the patch tokens of a model checkpoint for a fixed
// window, computed by the app's model on tfjs's cpu backend, written as JSON for PyTorch to compare against.
// Usage: npx tsx scripts/checkpoint-patch-tokens.mts model.safetensors out.json
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeModelCheckpoint } from '../src/weights/checkpoint.ts';
import { createParams, makeConfig, patchEmbed } from '../src/model/index.ts';

const [file, out] = process.argv.slice(2);
if (!file || !out) throw new Error('usage: npx tsx scripts/checkpoint-patch-tokens.mts model.safetensors out.json');
await tf.setBackend('cpu');
const ckpt = await decodeModelCheckpoint(new Uint8Array(readFileSync(file)), file);
const config = makeConfig(ckpt.meta.config);
const params = createParams(config, ckpt.weights, 0);
const { T, imgSize: S, inChans: C } = config;
// The window [1, T, S, S, C] (channels last, as the app feeds it): x[i] = 0.5 + 0.5 sin(0.37 i).
const x = Float32Array.from({ length: T * S * S * C }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
const tokens = await tf.tidy(() => patchEmbed(params, config, tf.tensor5d(x, [1, T, S, S, C]))).array();
writeFileSync(out, JSON.stringify({ T, S, C, tokens }));
console.log(`${out}: ${tokens[0].length} tokens of ${tokens[0][0].length}`);
