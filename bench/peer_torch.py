# PyTorch as a benchmark peer: float32 matmul GFLOP/s and the seed's training step (its own model code,
# scripts/fixtures/models_seed.py), with a fixed thread count. Spawned by run.ts, once per PyTorch:
#   bench/.venv-torch/bin/python bench/peer_torch.py '<job>' --threads 2                        (2.13, MKL)
#   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/peer_torch.py ...  (1.13)
# Mirrors harness.ts: the same cases, the same timing rule, one JSON line on stdout prefixed by RESULT_TAG.
import argparse
import json
import os
import re
import resource
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "fixtures"))
import models_seed as seed  # noqa: E402  (the seed's model, semantics kept exactly)

RESULT_TAG = "@@wedge-bench-result "


def operands(case, gen):
    """a [.., M, K], b [.., K, N], transposed operands as views, exactly as peer_wedge.ts builds them."""
    batch, M, K, N, v = case["batch"], case["M"], case["K"], case["N"], case["variant"]
    lead = [batch] if batch > 1 else []
    a = torch.randn(*lead, K, M, generator=gen).transpose(-2, -1) if v == "aTb" else torch.randn(*lead, M, K, generator=gen)
    b = torch.randn(*lead, N, K, generator=gen).transpose(-2, -1) if v == "abT" else torch.randn(*lead, K, N, generator=gen)
    return a, b


def time_gflops(flops, fn, timing):
    """harness.ts timeGflops: 3 warm-up calls, then the best of `rounds` rounds of >= minTimeMs each."""
    for _ in range(3):
        fn()
    best = 0.0
    for _ in range(timing["rounds"]):
        calls, t0 = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed * 1000 >= timing["minTimeMs"]:
                break
        best = max(best, flops * calls / elapsed / 1e9)
    return best


def summarize(ms, first_loss, last_loss):
    s = sorted(ms)
    m = len(s) // 2
    median = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    return {"median": median, "min": s[0], "mean": sum(ms) / len(ms), "firstLoss": first_loss, "lastLoss": last_loss}


def time_steps(cfg, attn):
    """One training step as the seed would write it: forward, cross-entropy, backward, Adam."""
    torch.manual_seed(cfg["seed"])
    model = seed.TestModel(cfg["vocab"], cfg["dModel"], cfg["nHead"], cfg["seqLen"], attn)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    gen = torch.Generator().manual_seed(cfg["seed"] + 1)
    n = cfg["warmup"] + cfg["steps"]
    data = [seed.generate_copy_batch(cfg["batch"], cfg["seqLen"], cfg["vocab"], generator=gen) for _ in range(n)]
    ms, first_loss = [], float("nan")
    for i, (x, y) in enumerate(data):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x).reshape(-1, cfg["vocab"]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if i >= cfg["warmup"]:
            ms.append((time.perf_counter() - t0) * 1000)
        if i == 0:
            first_loss = value
    return summarize(ms, first_loss, value)


def blas():
    """Which BLAS this torch uses: its build's BLAS_INFO, and any BLAS library mapped into the process."""
    info = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    libs = sorted({os.path.realpath(line.split()[-1]) for line in open("/proc/self/maps") if "blas" in line.lower() and "/" in line and "numpy" not in line})
    parts = [f"BLAS_INFO={info.group(1)}" if info else "BLAS_INFO unknown"]
    if libs:
        parts.append("loaded " + ", ".join(libs))
    return "; ".join(parts)


def main():
    job = json.loads(sys.argv[1])
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    threads = parser.parse_args(sys.argv[2:]).threads
    torch.set_num_threads(threads)
    out = {"name": f"PyTorch {torch.__version__}"}
    if job["task"] == "matmul":
        gen = torch.Generator().manual_seed(0)
        gflops = {}
        with torch.no_grad():
            for case in job["cases"]:
                a, b = operands(case, gen)
                flops = 2 * case["batch"] * case["M"] * case["K"] * case["N"]
                gflops[case["key"]] = time_gflops(flops, lambda: torch.matmul(a, b), job["timing"])
        out["gflops"] = gflops
    else:
        out["steps"] = {f"{cfg['name']}:{attn}": time_steps(cfg, attn) for cfg in job["configs"] for attn in job["attns"]}
    # after the work, so a lazily loaded BLAS shows up
    out["detail"] = f"{blas()}; {torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''}"
    out["peakRssMiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(RESULT_TAG + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
