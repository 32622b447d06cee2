"""bm25s on the corpus and queries rag searched, timed one query at a time (as rag answers them).

Input (argv[1], JSON): {"docs": [text...], "queries": [text...], "visible": [0/1 per doc], "k": 10,
"k1": float, "b": float, "warmup": n}. Output (stdout, JSON): index seconds, per-query latencies in
ms (tokenize + retrieve) without and with the visibility mask, and the top-k doc indices of both.
English stemming and stop words, as rag's full-text index uses; one thread, as one query is.
"""
import json
import sys
import time

import bm25s
import numpy as np
import Stemmer


def main() -> None:
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    docs, queries, k = spec["docs"], spec["queries"], spec["k"]
    stemmer = Stemmer.Stemmer("english")
    t0 = time.perf_counter()
    corpus_tokens = bm25s.tokenize(docs, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(k1=spec["k1"], b=spec["b"])
    retriever.index(corpus_tokens, show_progress=False)
    index_seconds = time.perf_counter() - t0
    mask = np.asarray(spec["visible"], dtype=np.float32)

    def search(q: str, weight_mask):
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
        if not tokens[0]:
            return [], 0.0
        ids, _scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1, weight_mask=weight_mask)
        return ids[0].tolist(), 0.0

    for q in queries[: spec.get("warmup", 20)]:
        search(q, None)
        search(q, mask)
    out = {"index_seconds": index_seconds, "version": bm25s.__version__}
    for name, weight_mask in (("all", None), ("acl", mask)):
        lat, tops = [], []
        for q in queries:
            t = time.perf_counter()
            ids, _ = search(q, weight_mask)
            lat.append((time.perf_counter() - t) * 1000)
            tops.append(ids)
        out[name] = {"ms": lat, "top": tops}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
