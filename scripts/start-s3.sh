#!/usr/bin/env bash
# Starts an S3-compatible server (moto, from PyPI) on 127.0.0.1 for tests and local trials of
# `rag --db s3://bucket/prefix`. Installs moto[server] with pip when it is not there yet.
#
#   scripts/start-s3.sh [PORT]        (default 9000; runs in the foreground until killed)
#
# Then, in another shell:
#   export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
#          RAG_S3_ENDPOINT=http://127.0.0.1:9000
#   curl -X PUT http://127.0.0.1:9000/my-bucket          # create a bucket
#   rag --db s3://my-bucket/team ingest docs/
#
# moto keeps everything in memory: stopping it discards every bucket.
set -euo pipefail
PORT="${1:-9000}"
PY="${PYTHON:-python3}"
MOTO_VERSION="5.2.1"

moto_bin() {
  command -v moto_server 2>/dev/null || true
}

if [[ -z "$(moto_bin)" ]] || ! "$PY" -c 'import flask, flask_cors' >/dev/null 2>&1; then
  echo "installing moto[server]==$MOTO_VERSION from PyPI" >&2
  "$PY" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  hash -r
fi
BIN="$(moto_bin)"
if [[ -z "$BIN" ]]; then
  # pip may put console scripts outside PATH (user installs); the module entry point always works.
  exec "$PY" -m moto.server -H 127.0.0.1 -p "$PORT"
fi
exec "$BIN" -H 127.0.0.1 -p "$PORT"
