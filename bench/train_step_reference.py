#!/usr/bin/env python3
"""The PyTorch-eager side of bench/train-throughput.sh: the same Llama, method, batch and step as
dev.streamtune.lm.bench.TrainStepBenchmark, written directly in PyTorch (matmul + additive mask attention, as the
Java model computes it; no fused kernels), so the two figures compare the runtimes, not the algorithms.

usage: train_step_reference.py full|lora|jola [warmup] [steps]
"""
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

if os.environ.get("TRAIN_BENCH_CONFIG") == "tiny":  # per-operation overhead dominates
    VOCAB, HIDDEN, LAYERS, HEADS, INTER, SEQ, BATCH = 512, 64, 2, 4, 172, 32, 8
else:
    VOCAB, HIDDEN, LAYERS, HEADS, INTER, SEQ, BATCH = 512, 256, 4, 8, 688, 256, 8
HEAD_DIM = HIDDEN // HEADS
EPS, THETA = 1e-5, 10000.0


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rope_tables():
    inv = THETA ** (-torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM)
    angles = torch.arange(SEQ, dtype=torch.float64)[:, None] * inv[None, :]
    angles = torch.cat([angles, angles], -1)
    return angles.cos().float(), angles.sin().float()


def rotate(x, cos, sin):  # x [B, T, H, hd]
    half = HEAD_DIM // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos[None, :, None, :] + rotated * sin[None, :, None, :]


class Model:
    def __init__(self, method):
        g = torch.Generator().manual_seed(1)
        normal = lambda *shape: (torch.randn(*shape, generator=g) * 0.02)
        self.embed = normal(VOCAB, HIDDEN)
        self.layers = []
        for _ in range(LAYERS):
            self.layers.append({
                "in_norm": torch.ones(HIDDEN), "post_norm": torch.ones(HIDDEN),
                "q": normal(HIDDEN, HIDDEN), "k": normal(HIDDEN, HIDDEN), "v": normal(HIDDEN, HIDDEN),
                "o": normal(HIDDEN, HIDDEN), "gate": normal(INTER, HIDDEN), "up": normal(INTER, HIDDEN),
                "down": normal(HIDDEN, INTER)})
        self.norm = torch.ones(HIDDEN)
        self.cos, self.sin = rope_tables()
        self.mask = torch.full((SEQ, SEQ), float("-inf")).triu(1)
        self.method = method
        self.trainable = []
        if method == "full":
            for layer in self.layers:
                self.trainable += list(layer.values())
            self.trainable += [self.embed, self.norm]
        elif method == "lora":
            self.scale = 16 / 8
            for layer in self.layers:
                for name in ("q", "v"):
                    bound = 1 / math.sqrt(HIDDEN)
                    layer[name + "_A"] = torch.empty(8, HIDDEN).uniform_(-bound, bound, generator=g)
                    layer[name + "_B"] = torch.zeros(HIDDEN, 8)
                    self.trainable += [layer[name + "_A"], layer[name + "_B"]]
        elif method == "jola":
            bound = math.sqrt(6 / (HEADS + 1))
            for layer in self.layers:
                layer["m"] = torch.randn(HEADS, HEAD_DIM, generator=g) * 1e-3
                layer["a"] = torch.randn(HEADS, HEAD_DIM, generator=g) * 1e-3
                layer["log_g1"] = torch.empty(HEADS, 1).uniform_(-bound, bound, generator=g)
                layer["log_g2"] = torch.empty(HEADS, 1).uniform_(-bound, bound, generator=g)
                self.trainable += [layer["m"], layer["a"], layer["log_g1"], layer["log_g2"]]
        else:
            raise SystemExit("method must be full, lora or jola")
        for p in self.trainable:
            p.requires_grad_(True)

    def linear(self, layer, name, x):
        y = F.linear(x, layer[name])
        if self.method == "lora" and name + "_A" in layer:
            y = y + F.linear(F.linear(x, layer[name + "_A"]), layer[name + "_B"]) * self.scale
        return y

    @staticmethod
    def gate(log_alpha):  # Hard-Concrete, training mode
        u = torch.rand_like(log_alpha) * (1 - 2e-6) + 1e-6
        s = torch.sigmoid((u.log() - (1 - u).log() + log_alpha) / 0.33)
        return (s * 1.2 - 0.1).clamp(0, 1)

    def forward(self, tokens):
        b, t = tokens.shape
        x = self.embed[tokens]
        for layer in self.layers:
            n = rms_norm(x, layer["in_norm"])
            q = rotate(self.linear(layer, "q", n).view(b, t, HEADS, HEAD_DIM), self.cos, self.sin)
            k = rotate(self.linear(layer, "k", n).view(b, t, HEADS, HEAD_DIM), self.cos, self.sin)
            v = self.linear(layer, "v", n).view(b, t, HEADS, HEAD_DIM)
            q = q.transpose(1, 2) / math.sqrt(HEAD_DIM)
            scores = q @ k.permute(0, 2, 3, 1) + self.mask
            heads = (scores.softmax(-1) @ v.transpose(1, 2)).transpose(1, 2)  # [B, T, H, hd]
            if self.method == "jola":
                heads = heads * (1 + self.gate(layer["log_g2"]) * layer["m"]) + self.gate(layer["log_g1"]) * layer["a"]
            x = x + self.linear(layer, "o", heads.reshape(b, t, HIDDEN))
            m = rms_norm(x, layer["post_norm"])
            x = x + self.linear(layer, "down", F.silu(self.linear(layer, "gate", m)) * self.linear(layer, "up", m))
        return F.linear(rms_norm(x, self.norm), self.embed)


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "lora"
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    # PyTorch counts physical cores; the Java side runs libtorch's default of one thread per CPU. Same for both.
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(1)
    model = Model(method)
    optimizer = torch.optim.AdamW(model.trainable, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    tokens = torch.randint(0, VOCAB, (BATCH, SEQ), generator=torch.Generator().manual_seed(0))
    losses = []

    def step():
        logits = model.forward(tokens)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), tokens[:, 1:].reshape(-1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        losses.append(loss.item())

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    config = torch.__config__.show()
    blas = next((part.strip() for part in config.replace("\n", ",").split(",") if "BLAS_INFO" in part), "BLAS_INFO unknown")
    print(f"torch {method:<5} tokens/s {BATCH * SEQ * steps / seconds:8.0f}  ms/step {1000 * seconds / steps:7.1f}  "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}  peak RSS {peak:5d} MiB  threads {torch.get_num_threads()}  "
          f"(torch {torch.__version__}, {blas}, {warmup} warmup + {steps} timed steps)")


if __name__ == "__main__":
    main()
