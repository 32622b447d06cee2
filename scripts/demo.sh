#!/usr/bin/env bash
# The main job on the bundled fixtures: ingest → index → query (with permissions) → eval with a gate.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANCEDB_LOG=error
export RAG_MODELS_DIR="${RAG_MODELS_DIR:-$PWD/.models}"

npm run --silent build
if [ ! -d "$RAG_MODELS_DIR/sentence-transformers/all-MiniLM-L6-v2" ]; then
  echo "› preparing models into $RAG_MODELS_DIR (once; verified by sha256)"
  bash scripts/prepare-models.sh "$RAG_MODELS_DIR"
fi

DB=.rag/demo
RAG=(./bin/rag --db "$DB" --config fixtures/rag.config.json)
rm -rf "$DB" runs/demo

step() { printf '\n\033[1m$ rag %s\033[0m\n' "$*"; }

step ingest fixtures/docs fixtures/html fixtures/pdf fixtures/tickets
"${RAG[@]}" ingest fixtures/docs fixtures/html fixtures/pdf fixtures/tickets
step index
"${RAG[@]}" index
step query "how do I rotate an API key" -k 3
"${RAG[@]}" query "how do I rotate an API key" -k 3
step query "engineering salary bands" -k 3 "   # as a member of the public: nothing restricted"
"${RAG[@]}" query "engineering salary bands" -k 3
step query "engineering salary bands" -k 3 --as group:hr
"${RAG[@]}" query "engineering salary bands" -k 3 --as group:hr
step eval --golden goldens/fixtures.jsonl --gate "ndcg@10>=0.8,recall@10>=0.8,p95_ms<=500"
"${RAG[@]}" eval --golden goldens/fixtures.jsonl --out runs/demo --overwrite --gate "ndcg@10>=0.8,recall@10>=0.8,p95_ms<=500"
echo
echo "artifact in runs/demo: $(ls runs/demo | tr '\n' ' ')"
