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
  $ RAG_HUB_ENDPOINT=http://mirror.local rag models pull sentence-transformers/all-MiniLM-L6-v2`,
    );
  models
    .command('list')
    .description('show the models present: id, kind, dimension, size, weights sha256')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const list = await listModels();
      if (ctx.json) return ctx.emit({ dir: modelsDir(), models: list });
      if (list.length === 0) {
        ctx.print(`no models in ${modelsDir()} — add one with \`rag models add DIR\` (or run scripts/prepare-models.sh)`);
        return;
      }
      const t = makeTable(['id', 'kind', 'dim', 'size', 'weights sha256']);
      for (const m of list) t.push([m.id, m.kind, m.dim ?? '', `${(m.sizeBytes / 1e6).toFixed(1)} MB`, m.weightsSha256.slice(0, 16)]);
      ctx.print(t.toString());
      ctx.print(`models dir: ${modelsDir()}`);
    });
  models
    .command('add')
    .description('register a local model folder (Hugging Face layout) by copying it into the models dir')
    .argument('<dir>', 'folder with config.json, tokenizer.json and onnx/ or model.safetensors')
    .option('--id <id>', 'model id (default: owner/name from the folder)')
    .action(async (dir: string, opts: { id?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const info = await addModel(dir, { id: opts.id });
      if (ctx.json) return ctx.emit(info);
      ctx.print(`added ${info.id} (${info.kind}${info.dim ? `, ${info.dim} dims` : ''}, sha256 ${info.weightsSha256.slice(0, 16)}…)`);
    });
  models
    .command('pull')
    .description('download a model from a Hugging Face compatible hub (RAG_HUB_ENDPOINT)')
    .argument('<id>', 'model id, e.g. sentence-transformers/all-MiniLM-L6-v2')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--endpoint <url>', 'hub endpoint (default: RAG_HUB_ENDPOINT or https://huggingface.co)')
    .action(async (id: string, opts: { revision: string; endpoint?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const info = await pullModel(id, { revision: opts.revision, endpoint: opts.endpoint });
      if (ctx.json) return ctx.emit(info);
      ctx.print(`pulled ${info.id} (${info.kind}, sha256 ${info.weightsSha256.slice(0, 16)}…)`);
    });
}
