# PyTorch's float32 matmul timed on the same cases as matmul.bench.ts, for side-by-side GFLOP/s.
# Spawned by matmul.bench.ts (`pnpm --filter bench matmul`); run alone: /usr/bin/python3 bench/matmul_torch.py '<json>'
# Input (argv[1]): JSON list of {"key", "batch", "M", "K", "N", "variant": "ab" | "abT" | "aTb"}.
# Output (stdout): JSON {"version", "blas", "default_threads", "thread_counts", "results": {key: {threads: gflops}}}, timed
# with 1 thread, with torch's default, and with one thread per core (when these differ).
import json
import os
import sys
import time

import torch


def operands(case, gen):
    """a [.., M, K], b [.., K, N], built as views exactly as the TypeScript side builds them."""
    batch, M, K, N, v = case["batch"], case["M"], case["K"], case["N"], case["variant"]
    lead = [batch] if batch > 1 else []
    if v == "aTb":
        a = torch.randn(*lead, K, M, generator=gen).transpose(-2, -1)  # stored [K, M], read as [M, K]
    else:
        a = torch.randn(*lead, M, K, generator=gen)
    if v == "abT":
        b = torch.randn(*lead, N, K, generator=gen).transpose(-2, -1)  # stored [N, K], read as [K, N]
    else:
        b = torch.randn(*lead, K, N, generator=gen)
    return a, b


def gflops(case, a, b, min_time=0.2, rounds=5):
    """Best of `rounds` timings, each the mean over as many calls as fit in `min_time` seconds."""
    flops = 2 * case["batch"] * case["M"] * case["K"] * case["N"]
    for _ in range(3):
        torch.matmul(a, b)  # warm-up
    best = 0.0
    for _ in range(rounds):
        calls, t0 = 0, time.perf_counter()
        while True:
            torch.matmul(a, b)
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time:
                break
        best = max(best, flops * calls / elapsed / 1e9)
    return best


def loaded_blas():
    """The BLAS library this process has mapped (Debian's torch calls whatever libblas.so.3 points to)."""
    libs = {line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and "/" in line}
    return ", ".join(sorted(os.path.realpath(lib) for lib in libs)) or "unknown"


def main():
    cases = json.loads(sys.argv[1])
    default_threads = torch.get_num_threads()
    thread_counts = sorted({1, default_threads, os.cpu_count() or 1})
    gen = torch.Generator().manual_seed(0)
    results = {}
    with torch.no_grad():
        for case in cases:
            a, b = operands(case, gen)
            row = {}
            for threads in thread_counts:
                torch.set_num_threads(threads)
                row[str(threads)] = gflops(case, a, b)
            results[case["key"]] = row
    print(json.dumps({
        "version": torch.__version__,
        "blas": loaded_blas(),
        "default_threads": default_threads,
        "thread_counts": thread_counts,
        "results": results,
    }))


if __name__ == "__main__":
    main()
