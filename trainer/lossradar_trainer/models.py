"""Models of the reference trainer: a small GPT-style char-level transformer and an MLP classifier.

The transformer's knobs are the ones that decide whether a small model trains or explodes
(Wortsman et al. 2023, "Small-scale proxies for large-scale Transformer training instabilities"):
LayerNorm placement (``pre``, ``post`` or ``none``), qk-layernorm, z-loss, width, depth and the
initialisation scale. q, k, v and the attention output are separate ``nn.Linear`` layers so that
spectral alignment is reported for each projection.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Attention(nn.Module):
    def __init__(self, d_model: int, n_head: int, qk_layernorm: bool, bias: bool) -> None:
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"d_model ({d_model}) must be a multiple of n_head ({n_head})")
        self.n_head = n_head
        self.head_dim = d_model // n_head
        self.q = nn.Linear(d_model, d_model, bias=bias)
        self.k = nn.Linear(d_model, d_model, bias=bias)
        self.v = nn.Linear(d_model, d_model, bias=bias)
        self.o = nn.Linear(d_model, d_model, bias=bias)
        self.q_norm: nn.Module = nn.LayerNorm(self.head_dim) if qk_layernorm else nn.Identity()
        self.k_norm: nn.Module = nn.LayerNorm(self.head_dim) if qk_layernorm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        b, t, c = x.shape
        q = self.q_norm(self.q(x).view(b, t, self.n_head, self.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k(x).view(b, t, self.n_head, self.head_dim)).transpose(1, 2)
        v = self.v(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out: Tensor = self.o(y.transpose(1, 2).reshape(b, t, c))
        return out


class MLP(nn.Module):
    def __init__(self, d_model: int, ratio: int, bias: bool) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_model, ratio * d_model, bias=bias)
        self.fc2 = nn.Linear(ratio * d_model, d_model, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.fc2(F.gelu(self.fc1(x)))
        return out


class Block(nn.Module):
    def __init__(self, d_model: int, n_head: int, mlp_ratio: int, layernorm: str, qk_layernorm: bool, bias: bool):
        super().__init__()
        if layernorm not in ("pre", "post", "none"):
            raise ValueError(f"layernorm must be pre, post or none, got {layernorm!r}")
        self.layernorm = layernorm
        self.ln1: nn.Module = nn.LayerNorm(d_model) if layernorm != "none" else nn.Identity()
        self.ln2: nn.Module = nn.LayerNorm(d_model) if layernorm != "none" else nn.Identity()
        self.attn = Attention(d_model, n_head, qk_layernorm, bias)
        self.mlp = MLP(d_model, mlp_ratio, bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.layernorm == "post":
            x = self.ln1(x + self.attn(x))
            out: Tensor = self.ln2(x + self.mlp(x))
            return out
        x = x + self.attn(self.ln1(x))
        out = x + self.mlp(self.ln2(x))
        return out


class CharTransformer(nn.Module):
    """Decoder-only transformer; ``forward(idx)`` gives logits (B, T, vocab)."""

    def __init__(
        self,
        vocab_size: int = 128,
        block_size: int = 64,
        d_model: int = 128,
        n_layer: int = 4,
        n_head: int = 4,
        mlp_ratio: int = 4,
        layernorm: str = "pre",
        qk_layernorm: bool = False,
        bias: bool = True,
        init_std: float = 0.02,
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList(
            Block(d_model, n_head, mlp_ratio, layernorm, qk_layernorm, bias) for _ in range(n_layer)
        )
        self.ln_f: nn.Module = nn.LayerNorm(d_model) if layernorm == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.tok.weight
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = init_std
                if name.endswith(("attn.o.weight", "mlp.fc2.weight")):
                    std = init_std / math.sqrt(2 * n_layer)  # GPT-2's residual scaling
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def forward(self, idx: Tensor) -> Tensor:
        t = idx.shape[1]
        pos = torch.arange(t, device=idx.device)
        x = self.tok(idx) + self.pos(pos)[None]
        for block in self.blocks:
            x = block(x)
        out: Tensor = self.head(self.ln_f(x))
        return out


class MLPClassifier(nn.Module):
    def __init__(self, n_features: int, n_classes: int, hidden: int = 256, depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.head(self.body(x))
        return out
