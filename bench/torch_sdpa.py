#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch's fused attention at attnsim_bench_kernels' shapes, for issue 6's comparison.

    python3 bench/torch_sdpa.py [ROWS.json]

Times torch.nn.functional.scaled_dot_product_attention with each fused back-end PyTorch has
(FlashAttention, cuDNN), forward and backward, at the shapes and by the timing rule of
bench/kernel_speed.cpp: dense and causal, head dim 128, 16 heads, batch x sequence = 16K
tokens (batch 1 from 16K up), sequence 8K-64K, bf16 and fp16; a probe call, then batches of
back-to-back calls lasting about 2 ms timed with CUDA events, the median per call over at least
5 batches (calibrate/cuda/plan.h's full policy). FLOPs by the papers' convention: forward
4·s²·d·batch·heads, halved when causal; backward 2.5x forward. Prints a Markdown table and
writes the rows (profile attention-row fields, impl "torch-flash" / "torch-cudnn") to ROWS.json.
Needs PyTorch with CUDA (the device machine has it); a back-end PyTorch cannot run at a shape
is reported as "-" with the reason on stderr.
"""
import json
import statistics
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"torch-flash": SDPBackend.FLASH_ATTENTION, "torch-cudnn": SDPBackend.CUDNN_ATTENTION}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
HEAD_DIM = 128
HEADS = 2048 // HEAD_DIM
BATCH_S = 2e-3
MIN_BATCHES, MAX_BATCHES, BUDGET_S = 5, 50, 0.03


def time_call(call):
    """Median seconds per call: probe, then batches of about BATCH_S (calibrate/cuda/plan.h)."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def batch(calls):
        start.record()
        for _ in range(calls):
            call()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1e-3 / calls

    probe = batch(1)
    calls = max(1, min(1000, int(BATCH_S / probe))) if probe < BATCH_S else 1
    batch(calls)  # warm-up
    times, spent = [], 0.0
    while len(times) < MAX_BATCHES and (len(times) < MIN_BATCHES or spent < BUDGET_S):
        times.append(batch(calls))
        spent += times[-1] * calls
    return statistics.median(times), calls, len(times)


def main():
    rows = []
    print(f"## PyTorch {torch.__version__} fused attention on {torch.cuda.get_device_name(0)}\n")
    print("| dtype | mask | seq | batch x heads | pass | " + " | ".join(BACKENDS) + " |")
    print("|---|---|---|---|---|" + "---|" * len(BACKENDS))
    for dtype_name, dtype in DTYPES.items():
        for causal in (False, True):
            for seq in (8192, 16384, 32768, 65536):
                batch = max(1, 16384 // seq)
                shape = (batch, HEADS, seq, HEAD_DIM)
                q, k, v = (torch.randn(shape, device="cuda", dtype=dtype, requires_grad=True)
                           for _ in range(3))
                forward_flops = 4.0 * seq * seq * HEAD_DIM * batch * HEADS * (0.5 if causal else 1.0)
                cells = {"fwd": [], "bwd": []}
                for impl, backend in BACKENDS.items():
                    try:
                        with sdpa_kernel(backend):
                            out = torch.nn.functional.scaled_dot_product_attention(
                                q, k, v, is_causal=causal)
                            grad = torch.randn_like(out)
                            timed = {
                                "fwd": lambda: torch.nn.functional.scaled_dot_product_attention(
                                    q, k, v, is_causal=causal),
                                "bwd": lambda: torch.autograd.grad(out, (q, k, v), grad,
                                                                   retain_graph=True),
                            }
                            for pass_name, call in timed.items():
                                seconds, calls, batches = time_call(call)
                                flops = forward_flops * (2.5 if pass_name == "bwd" else 1.0)
                                tflops = flops / seconds * 1e-12
                                cells[pass_name].append(f"{tflops:.1f}")
                                rows.append({
                                    "impl": impl, "pass": pass_name, "dtype": dtype_name,
                                    "causal": causal, "head_dim": HEAD_DIM, "seq_q": seq,
                                    "seq_k": seq, "batch_heads": batch * HEADS, "tflops": tflops,
                                    "source": f"measured: torch {torch.__version__} SDPA "
                                              f"({backend.name}), median of {batches} batches "
                                              f"of {calls} calls, CUDA events"})
                    except RuntimeError as error:  # the back-end cannot run this shape
                        print(f"{impl} {dtype_name} seq {seq}: {str(error).splitlines()[0]}",
                              file=sys.stderr)
                        cells["fwd"].append("-")
                        cells["bwd"].append("-")
                for pass_name in ("fwd", "bwd"):
                    print(f"| {dtype_name} | {'causal' if causal else 'dense'} | {seq} | "
                          f"{batch} x {HEADS} | {pass_name} | " + " | ".join(cells[pass_name])
                          + " |")
                del q, k, v
                torch.cuda.empty_cache()
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as f:
            json.dump({"device": torch.cuda.get_device_name(0), "attention": rows}, f, indent=2)


if __name__ == "__main__":
    main()
