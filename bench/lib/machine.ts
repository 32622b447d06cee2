import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  platform: string;
  node: string;
  lancedb: string;
  onnxruntime: string;
  /** NODE_EXTRA_CA_CERTS set in the bench's environment: every Node process starts slower (proc.ts). */
  nodeExtraCaCerts: boolean;
}

function pkgVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(root: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    lancedb: pkgVersion(root, '@lancedb/lancedb'),
    onnxruntime: pkgVersion(root, 'onnxruntime-node'),
    nodeExtraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS),
  };
}
