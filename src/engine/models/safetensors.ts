/**
 * Minimal safetensors reader: 8-byte little-endian header length, a JSON header, then raw
 * little-endian tensor bytes. We read it ourselves so a static model needs no Python and no
 * extra dependency; every tensor is widened to a Float64Array or Int32Array-like view.
 */
import { readFile } from 'node:fs/promises';
import { StoreError } from '../errors.js';

export type SafeDtype = 'F16' | 'BF16' | 'F32' | 'F64' | 'I8' | 'U8' | 'I16' | 'I32' | 'I64';

export interface SafeTensor {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Values widened to doubles; integer tensors hold exact integers (I64 beyond 2^53 is rejected). */
  data: Float64Array;
}

const BYTES: Record<SafeDtype, number> = { F16: 2, BF16: 2, F32: 4, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8 };

export function parseSafetensors(buf: Buffer, file = 'model.safetensors'): Map<string, SafeTensor> {
  if (buf.length < 8) throw new StoreError(`${file}: too short to be a safetensors file`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen <= 0 || 8 + headerLen > buf.length) throw new StoreError(`${file}: bad safetensors header length ${headerLen}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch {
    throw new StoreError(`${file}: safetensors header is not valid JSON`);
  }
  const base = 8 + headerLen;
  const out = new Map<string, SafeTensor>();
  for (const [name, meta] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = meta.dtype as SafeDtype;
    const width = BYTES[dtype];
    if (!width) throw new StoreError(`${file}: tensor ${name} has unsupported dtype ${meta.dtype}`);
    const [start, end] = meta.data_offsets;
    const count = meta.shape.reduce((a, b) => a * b, 1);
    if (end - start !== count * width || base + end > buf.length) {
      throw new StoreError(`${file}: tensor ${name} offsets [${start}, ${end}) do not match shape ${JSON.stringify(meta.shape)} ${dtype}`);
    }
    out.set(name, { name, dtype, shape: meta.shape, data: decode(buf, base + start, count, dtype, `${file}: ${name}`) });
  }
  return out;
}

export async function readSafetensors(file: string): Promise<Map<string, SafeTensor>> {
  return parseSafetensors(await readFile(file), file);
}

function decode(buf: Buffer, offset: number, count: number, dtype: SafeDtype, where: string): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F64': out[i] = buf.readDoubleLE(offset + i * 8); break;
      case 'F32': out[i] = buf.readFloatLE(offset + i * 4); break;
      case 'F16': out[i] = halfToFloat(buf.readUInt16LE(offset + i * 2)); break;
      case 'BF16': out[i] = bf16ToFloat(buf.readUInt16LE(offset + i * 2)); break;
      case 'I8': out[i] = buf.readInt8(offset + i); break;
      case 'U8': out[i] = buf.readUInt8(offset + i); break;
      case 'I16': out[i] = buf.readInt16LE(offset + i * 2); break;
      case 'I32': out[i] = buf.readInt32LE(offset + i * 4); break;
      case 'I64': {
        const v = buf.readBigInt64LE(offset + i * 8);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new StoreError(`${where}: I64 value out of range`);
        out[i] = Number(v);
        break;
      }
    }
  }
  return out;
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function bf16ToFloat(h: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(h << 16 >>> 0);
  return b.readFloatLE(0);
}

/** Writes a safetensors file (used by tests and tools to build small models). */
export function encodeSafetensors(tensors: { name: string; dtype: 'F32' | 'F64' | 'F16' | 'I32' | 'I64'; shape: number[]; values: ArrayLike<number> }[]): Buffer {
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const width = BYTES[t.dtype];
    const b = Buffer.alloc(t.values.length * width);
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i];
      if (t.dtype === 'F32') b.writeFloatLE(v, i * 4);
      else if (t.dtype === 'F64') b.writeDoubleLE(v, i * 8);
      else if (t.dtype === 'F16') b.writeUInt16LE(floatToHalf(v), i * 2);
      else if (t.dtype === 'I32') b.writeInt32LE(v, i * 4);
      else b.writeBigInt64LE(BigInt(v), i * 8);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + b.length] };
    offset += b.length;
    parts.push(b);
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json, 'utf8'), ...parts]);
}

/** number → binary16, truncating the mantissa and flushing subnormals to zero (enough for test data). */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const frac = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 0x1f) return sign | 0x7c00;
  return sign | (exp << 10) | (frac >>> 13);
}
