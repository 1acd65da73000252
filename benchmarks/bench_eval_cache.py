"""Cold vs warm ``clirlens eval``: the second run finds passage and query embeddings in the
cache and must skip encoding entirely (goal: >= 20x faster end to end).

Both runs are whole CLI processes (imports, model resolution, FAISS, ir-measures,
significance included) on th->en with multilingual-e5-small and all-MiniLM-L6-v2, a fresh
cache directory for the cold run. Run: python benchmarks/bench_eval_cache.py [--dtype fp32]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _common import test_model, xquad_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="fp32")
    ap.add_argument("--langs", default="th")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="clirlens-bench-cache-")
    cmd = [
        sys.executable,
        "-m",
        "clirlens.core.cli.main",
        "eval",
        "-q",
        "--model",
        f"me5-small={test_model('multilingual-e5-small')}",
        "--model",
        str(test_model("all-MiniLM-L6-v2")),
        "--xquad",
        str(xquad_dir()),
        "--query-langs",
        args.langs,
        "--doc-langs",
        "en",
        "--dtype",
        args.dtype,
        "--cache-dir",
        cache,
    ]
    env = {**os.environ, "CLIRLENS_CACHE_DIR": cache}
    outputs, times = [], []
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            sys.exit(f"{label} run failed:\n{done.stderr}")
        outputs.append(done.stdout)
        print(f"{label}: {times[-1]:.1f} s")
    same = outputs[0] == outputs[1]
    print(
        f"warm run {times[0] / times[1]:.1f}x faster than cold (goal >= 20x); "
        f"identical output: {same}"
    )


if __name__ == "__main__":
    main()
