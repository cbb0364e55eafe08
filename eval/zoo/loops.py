"""The zoo's third round (docs/early-warning.md, "The zoo"): healthy runs of training loops the first
two rounds do not have — a full-batch GCN (a loss with almost no noise), sharpness-aware
minimisation (two passes per step), a GRU sequence-to-sequence model whose teacher forcing is
annealed away (its loss rises by design), a network memorising a tiny dataset (its loss falls
towards 0), an LSTM forecaster trained by RMSprop on MSE, and a masked-token encoder whose mask
ratio is warmed up. Each logs what such a script logs as its `loss`; none is meant to explode.
All six are sealed: made, and replayed once, with the defaults frozen."""

from __future__ import annotations

import torch
from data import gaussian_classes, markov_text, mlp, sampler
from networks import grad_norm
from recording import Kind, Split, recording
from torch import Tensor, nn

S = torch.optim.lr_scheduler


def gcn_full_batch(name: str, seed: int, out: str, steps: int = 600) -> None:
    """Node classification as in Kipf & Welling 2017: the whole graph every step, the loss on a
    fixed set of training nodes, Adam with weight decay and dropout. Without minibatches the loss
    is nearly deterministic: its noise is dropout's alone."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 17)
    n, classes = 800, 5
    y = torch.randint(0, classes, (n,), generator=g)
    p = torch.where(y[:, None] == y[None, :], torch.tensor(0.02), torch.tensor(0.002))
    upper = torch.triu(torch.rand(n, n, generator=g) < p, diagonal=1)
    a = (upper | upper.T).float() + torch.eye(n)
    d = a.sum(1).rsqrt()
    adj = (d[:, None] * a * d[None, :]).to_sparse()
    x = torch.randn(classes, 32, generator=g)[y] * 0.5 + torch.randn(n, 32, generator=g)
    train = torch.randperm(n, generator=g)[:160]
    lin1, lin2 = nn.Linear(32, 64), nn.Linear(64, classes)
    model = nn.ModuleList([lin1, lin2])
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    drop = nn.Dropout(0.5)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            h = torch.relu(torch.sparse.mm(adj, lin1(drop(x))))
            logits = torch.sparse.mm(adj, lin2(drop(h)))
            rec.step(step, nn.functional.cross_entropy(logits[train], y[train]))


def sam(name: str, seed: int, out: str, steps: int = 1000, rho: float = 0.05) -> None:
    """Sharpness-aware minimisation (Foret et al. 2021), the two-pass loop of its reference
    implementations: ascend to the worst point within ρ, take the gradient there, step from the
    original weights with SGD and momentum, cosine schedule. The script logs the first pass's loss."""
    torch.manual_seed(seed)
    x, y = gaussian_classes(seed, noise=0.2)
    model = mlp(20, 10, 128)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = S.CosineAnnealingLR(opt, steps)
    batches = sampler(seed, x, y, batch=128)
    ce = nn.functional.cross_entropy
    params = [p for p in model.parameters() if p.requires_grad]
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            loss = ce(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.norm(torch.stack([p.grad.norm() for p in params if p.grad is not None]))
            eps = []
            with torch.no_grad():
                for p in params:
                    e = p.grad * (rho / (norm + 1e-12)) if p.grad is not None else torch.zeros_like(p)
                    p.add_(e)
                    eps.append(e)
            opt.zero_grad(set_to_none=True)
            ce(model(xb), yb).backward()
            with torch.no_grad():
                for p, e in zip(params, eps, strict=True):
                    p.sub_(e)
            grad = grad_norm(model)
            lr = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
            rec.run.log(step, {"loss": loss.item(), "lr": lr, "grad_norm": grad})


def scheduled_sampling(name: str, seed: int, out: str, steps: int = 1200) -> None:
    """A GRU encoder–decoder that reverses a token sequence, trained with scheduled sampling
    (Bengio et al. 2015): the share of decoder inputs taken from the ground truth falls linearly
    from 1 to 0.25 over the run, so the model is fed more of its own mistakes and the logged loss
    rises for a while although nothing is wrong."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 19)
    vocab, length, batch = 16, 10, 64
    embed, enc = nn.Embedding(vocab + 1, 32), nn.GRU(32, 64, batch_first=True)
    dec, head = nn.GRUCell(32, 64), nn.Linear(64, vocab)
    model = nn.ModuleList([embed, enc, dec, head])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    ce = nn.functional.cross_entropy
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            src = torch.randint(0, vocab, (batch, length), generator=g)
            tgt = src.flip(1)
            _, h = enc(embed(src))
            state = h[0]
            inp = torch.full((batch,), vocab, dtype=torch.long)  # the start token
            teacher = 1.0 - 0.75 * step / steps
            losses = []
            for t in range(length):
                state = dec(embed(inp), state)
                logits = head(state)
                losses.append(ce(logits, tgt[:, t]))
                use_truth = torch.rand(batch, generator=g) < teacher
                inp = torch.where(use_truth, tgt[:, t], logits.argmax(-1).detach())
            rec.step(step, torch.stack(losses).mean(), clip=1.0, teacher_forcing=teacher)


def memorise(name: str, seed: int, out: str, steps: int = 1500) -> None:
    """Overfitting a tiny dataset on purpose, as a sanity check of a pipeline (Karpathy's "overfit
    one batch"): 64 random labels, a wide MLP, Adam; the loss falls from log 10 towards 10⁻⁴ and
    wobbles there by large ratios."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 23)
    x, y = torch.randn(64, 20, generator=g), torch.randint(0, 10, (64,), generator=g)
    model = mlp(20, 10, 256)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = sampler(seed, x, y, batch=32)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            rec.step(step, nn.functional.cross_entropy(model(xb), yb))


class Forecaster(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, 48, batch_first=True)
        self.head = nn.Linear(48, 1)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.lstm(x)
        out: Tensor = self.head(h[:, -1])
        return out


def lstm_forecast(name: str, seed: int, out: str, steps: int = 1200) -> None:
    """One-step-ahead forecasting of a noisy sum of sines with an LSTM, MSE, RMSprop (the optimizer
    of many Keras-era forecasting tutorials), the rate halved every 400 steps."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 29)
    t = torch.arange(20000, dtype=torch.float32)
    series = torch.sin(t / 7) + 0.5 * torch.sin(t / 23 + 1) + 0.3 * torch.randn(len(t), generator=g)
    window, batch = 30, 64
    model = Forecaster()
    opt = torch.optim.RMSprop(model.parameters(), lr=2e-3)
    sched = S.StepLR(opt, 400, 0.5)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            start = torch.randint(0, len(series) - window - 1, (batch,), generator=g)
            idx = start[:, None] + torch.arange(window + 1)
            seq = series[idx]
            pred = model(seq[:, :window, None])
            rec.step(step, nn.functional.mse_loss(pred[:, 0], seq[:, window]))
            sched.step()


def masked_lm(name: str, seed: int, out: str, steps: int = 1200) -> None:
    """A BERT-style encoder (two pre-LN layers) trained to recover masked tokens of a first-order
    Markov text, the mask ratio warmed up from 5 % to 30 % over the first 600 steps (a harder task as it
    goes: the loss rises with it), AdamW with linear warm-up and decay."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 31)
    text = markov_text(seed, order=1)
    vocab, seq, batch, mask_id = 32, 32, 32, 32
    # positions at the tokens' scale (nn.Embedding draws N(0, 1)): at 0.02 they were lost beside
    # the tokens and the pilot sat at the unigram loss for 600 steps
    embed, pos = nn.Embedding(vocab + 1, 64), nn.Parameter(torch.randn(seq, 64))
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True, norm_first=True)
    encoder, head = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False), nn.Linear(64, vocab)
    model = nn.ModuleList([embed, encoder, head])
    opt = torch.optim.AdamW([*model.parameters(), pos], lr=1e-3, weight_decay=0.01)
    sched = S.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100) * max(0.05, 1 - s / steps))
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            start = torch.randint(0, len(text) - seq, (batch,), generator=g)
            tokens = text[start[:, None] + torch.arange(seq)]
            ratio = 0.05 + 0.25 * min(1.0, step / 600)
            mask = torch.rand(tokens.shape, generator=g) < ratio
            mask[:, 0] |= ~mask.any(1)  # at least one masked token per sequence
            h = encoder(embed(tokens.masked_fill(mask, mask_id)) + pos)
            loss = nn.functional.cross_entropy(head(h)[mask], tokens[mask])
            rec.step(step, loss, clip=1.0, mask_ratio=ratio)
            sched.step()


#: kind -> (split, how it trains), the third round: every kind sealed, every run made before any
#: was replayed.
LOOP_KINDS: dict[str, tuple[Split, Kind]] = {
    "gcn-full-batch": ("sealed", gcn_full_batch),
    "sam": ("sealed", sam),
    "scheduled-sampling": ("sealed", scheduled_sampling),
    "memorise": ("sealed", memorise),
    "lstm-forecast": ("sealed", lstm_forecast),
    "masked-lm": ("sealed", masked_lm),
}
