"""The zoo's second round (docs/early-warning.md, "The zoo"): healthy runs on networks other than
the first round's MLP, with the training loops people write for them — two GANs, self-distillation
without labels (BYOL, DINO), a CNN with BatchNorm on the step schedule of image classification, a
tiny ViT, a transformer LM with a sequence-length warm-up, a GRU LM trained by truncated BPTT, CTC,
learnt uncertainty weights, fine-tuning with a frozen body released mid-run, and pseudo-labels
switched on mid-run. Each logs what such a script logs as its `loss`; none is meant to explode."""

from __future__ import annotations

import copy
import math

import torch
from data import images, markov_text, mlp, sampler, swiss_roll
from recording import Kind, Split, recording
from torch import Tensor, nn

S = torch.optim.lr_scheduler


def grad_norm(model: nn.Module, clip: float = math.inf) -> float:
    return float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip))


def warmup_cosine(opt: torch.optim.Optimizer, warmup: int, steps: int) -> S.LambdaLR:
    return S.LambdaLR(opt, lambda t: min(1.0, (t + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps)))


# ---------------------------------------------------------------------------------------------- GANs


def gan(*, wasserstein: bool, steps: int = 1500) -> Kind:
    """A GAN on the swiss roll. Non-saturating (Goodfellow et al. 2014): the script logs the
    generator's loss, which rises as the discriminator learns and then wanders. WGAN-GP (Gulrajani
    et al. 2017, five critic steps per generator step): it logs the critic's loss, signed, whose
    scale follows the critic's."""

    def kind(name: str, seed: int, out: str) -> None:
        torch.manual_seed(seed)
        pts = swiss_roll(seed)
        gen, disc = mlp(8, 2, 64), mlp(2, 1, 64)
        betas = (0.0, 0.9) if wasserstein else (0.5, 0.999)
        opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4 if not wasserstein else 1e-4, betas=betas)
        opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4 if not wasserstein else 1e-4, betas=betas)
        batches = sampler(seed, pts, batch=128)
        bce = nn.functional.binary_cross_entropy_with_logits
        with recording(name, out, gen, opt_g) as rec:
            for step in range(steps):
                for _ in range(5 if wasserstein else 1):
                    (real,) = next(batches)
                    fake = gen(torch.randn(len(real), 8)).detach()
                    if wasserstein:
                        eps = torch.rand(len(real), 1)
                        mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
                        (g,) = torch.autograd.grad(disc(mix).sum(), mix, create_graph=True)
                        penalty = ((g.norm(dim=1) - 1) ** 2).mean()
                        loss_d = disc(fake).mean() - disc(real).mean() + 10 * penalty
                    else:
                        dr, df = disc(real), disc(fake)
                        loss_d = bce(dr, torch.ones_like(dr)) + bce(df, torch.zeros_like(df))
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                df = disc(gen(torch.randn(128, 8)))
                loss_g = -df.mean() if wasserstein else bce(df, torch.ones_like(df))
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                norm = grad_norm(gen)
                opt_g.step()
                # What each script calls its loss: the generator's, or the critic's.
                losses = (
                    {"loss": loss_d.item(), "loss_g": loss_g.item()}
                    if wasserstein
                    else {"loss": loss_g.item(), "loss_d": loss_d.item()}
                )
                rec.run.log(step, {**losses, "lr": opt_g.param_groups[0]["lr"], "grad_norm": norm})

    return kind


# -------------------------------------------------------------------------------- self-distillation


def byol(name: str, seed: int, out: str, steps: int = 1000) -> None:
    """BYOL (Grill et al. 2020): an online network and predictor regress an EMA target's projection
    of another view; the loss (2 − 2 cos) rises while the target moves early on, then falls."""
    torch.manual_seed(seed)
    x, _ = images(seed)
    flat = x.flatten(1)
    online, predictor = mlp(flat.shape[1], 32, 128), mlp(32, 32, 64)
    target = copy.deepcopy(online).requires_grad_(False)
    model = nn.ModuleList([online, predictor])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = sampler(seed, flat, batch=128)

    def view(b: Tensor) -> Tensor:
        return b * (torch.rand_like(b) > 0.25) + 0.3 * torch.randn_like(b)

    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            (xb,) = next(batches)
            v1, v2 = view(xb), view(xb)
            p = nn.functional.normalize(predictor(online(v1)), dim=-1)
            with torch.no_grad():
                z = nn.functional.normalize(target(v2), dim=-1)
            rec.step(step, (2 - 2 * (p * z).sum(-1)).mean())
            with torch.no_grad():
                for t, o in zip(target.parameters(), online.parameters(), strict=True):
                    t.mul_(0.99).add_(o, alpha=0.01)


def dino(name: str, seed: int, out: str, steps: int = 1000, dim: int = 64) -> None:
    """DINO (Caron et al. 2021): a student matches a centred, sharpened EMA teacher; the teacher's
    temperature warms up from 0.04 to 0.07 over 300 steps, which moves the loss's level by itself."""
    torch.manual_seed(seed)
    x, _ = images(seed)
    flat = x.flatten(1)
    student = mlp(flat.shape[1], dim, 128)
    teacher = copy.deepcopy(student).requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=5e-4, weight_decay=0.04)
    center = torch.zeros(dim)
    batches = sampler(seed, flat, batch=128)
    with recording(name, out, student, opt) as rec:
        for step in range(steps):
            (xb,) = next(batches)
            v1 = xb * (torch.rand_like(xb) > 0.3) + 0.3 * torch.randn_like(xb)
            v2 = xb * (torch.rand_like(xb) > 0.3) + 0.3 * torch.randn_like(xb)
            t_temp = 0.04 + 0.03 * min(1.0, step / 300)
            with torch.no_grad():
                t1, t2 = teacher(v1), teacher(v2)
                q1, q2 = ((t1 - center) / t_temp).softmax(-1), ((t2 - center) / t_temp).softmax(-1)
            s1, s2 = (student(v1) / 0.1).log_softmax(-1), (student(v2) / 0.1).log_softmax(-1)
            loss = -0.5 * ((q1 * s2).sum(-1).mean() + (q2 * s1).sum(-1).mean())
            rec.step(step, loss, clip=3.0, teacher_temp=t_temp)
            with torch.no_grad():
                center = 0.9 * center + 0.1 * torch.cat([t1, t2]).mean(0)
                for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
                    t.mul_(0.996).add_(s, alpha=0.004)


# ------------------------------------------------------------------------------------------- vision


class SmallCNN(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

        self.body = nn.Sequential(block(1, 16), block(16, 32), nn.MaxPool2d(2), block(32, 32), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(32, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x).flatten(1))


def cnn_multistep(name: str, seed: int, out: str, steps: int = 800) -> None:
    """The image-classification recipe: a CNN with BatchNorm, SGD 0.1 with momentum and weight decay
    5e-4, the rate cut 10× at 50 % and 75 % of training, random flips and shifts."""
    torch.manual_seed(seed)
    x, y = images(seed)
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = S.MultiStepLR(opt, [steps // 2, steps * 3 // 4], 0.1)
    batches = sampler(seed, x, y, batch=64)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            xb = torch.where(torch.rand(len(xb), 1, 1, 1) < 0.5, xb.flip(-1), xb)
            xb = torch.roll(xb, tuple(int(v) for v in torch.randint(-1, 2, (2,))), (2, 3))
            rec.step(step, nn.functional.cross_entropy(model(xb), yb))
            sched.step()


class TinyViT(nn.Module):
    def __init__(self, size: int = 12, patch: int = 3, d: int = 48, layers: int = 2, classes: int = 10) -> None:
        super().__init__()
        self.patch = nn.Conv2d(1, d, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.patch(x).flatten(2).transpose(1, 2)
        h = torch.cat([self.cls.expand(len(h), -1, -1), h], 1) + self.pos
        return self.head(self.norm(self.encoder(h)[:, 0]))


def vit_tiny(name: str, seed: int, out: str, steps: int = 800) -> None:
    """A tiny ViT: AdamW 1e-3 with weight decay 0.05, linear warm-up over 80 steps then cosine, label
    smoothing 0.1, gradient clipping at 1."""
    torch.manual_seed(seed)
    x, y = images(seed)
    model = TinyViT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    sched = warmup_cosine(opt, 80, steps)
    batches = sampler(seed, x, y, batch=64)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb = next(batches)
            rec.step(step, nn.functional.cross_entropy(model(xb), yb, label_smoothing=0.1), clip=1.0)
            sched.step()


# ------------------------------------------------------------------------------------------ language


class TinyLM(nn.Module):
    def __init__(self, vocab: int = 32, d: int = 64, layers: int = 2, context: int = 64) -> None:
        super().__init__()
        self.embed, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, idx: Tensor) -> Tensor:
        t = idx.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.embed(idx) + self.pos(torch.arange(t))
        return self.head(self.norm(self.blocks(h, mask=mask, is_causal=True)))


def lm_seqlen_warmup(name: str, seed: int, out: str, steps: int = 800, context: int = 64) -> None:
    """A pre-LN transformer LM whose sequence length warms up from 8 to 64 tokens over 300 steps (Li
    et al. 2022), AdamW with warm-up and cosine, clipping at 1: a longer context changes the
    per-token loss by itself."""
    torch.manual_seed(seed)
    text = markov_text(seed)
    model = TinyLM(context=context)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    sched = warmup_cosine(opt, 50, steps)
    g = torch.Generator().manual_seed(seed + 5)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            t = int(8 + (context - 8) * min(1.0, step / 300))
            starts = torch.randint(0, len(text) - t - 1, (32,), generator=g)
            xb = torch.stack([text[s : s + t] for s in starts.tolist()])
            yb = torch.stack([text[s + 1 : s + t + 1] for s in starts.tolist()])
            loss = nn.functional.cross_entropy(model(xb).flatten(0, 1), yb.flatten())
            rec.step(step, loss, clip=1.0, seq_len=t)
            sched.step()


def gru_tbptt(name: str, seed: int, out: str, steps: int = 1000, bptt: int = 35, batch: int = 16) -> None:
    """The classic recurrent LM loop (Zaremba et al. 2014): a GRU over the text in 16 parallel
    streams, truncated BPTT of 35 tokens with the hidden state carried over, plain SGD at rate 1
    clipped at 0.25, the rate quartered whenever the held-out loss stops improving."""
    torch.manual_seed(seed)
    text = markov_text(seed)
    split = len(text) * 9 // 10
    train, held = text[:split], text[split:]
    streams = train[: len(train) // batch * batch].view(batch, -1)
    embed, rnn, head = nn.Embedding(32, 64), nn.GRU(64, 128, batch_first=True), nn.Linear(128, 32)
    model = nn.ModuleList([embed, rnn, head])
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    ce = nn.functional.cross_entropy
    hidden: Tensor | None = None
    best = math.inf
    pos = 0
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            if pos + bptt + 1 > streams.shape[1]:
                pos, hidden = 0, None
            xb, yb = streams[:, pos : pos + bptt], streams[:, pos + 1 : pos + bptt + 1]
            pos += bptt
            h, hidden = rnn(embed(xb), hidden)
            hidden = hidden.detach()
            rec.step(step, ce(head(h).flatten(0, 1), yb.flatten()), clip=0.25)
            if step % 100 == 99:
                with torch.no_grad():
                    hv, _ = rnn(embed(held[None, :-1]))
                    val = ce(head(hv)[0], held[1:]).item()
                rec.run.log(step, {"loss/val": val})
                if val > best * 0.999:
                    for group in opt.param_groups:
                        group["lr"] /= 4
                best = min(best, val)


def ctc(name: str, seed: int, out: str, steps: int = 800) -> None:
    """Sequence labelling with CTC (Graves et al. 2006): a bidirectional GRU reads noisy frames of a
    label sequence, each label held 2–4 frames; the CTC loss starts in the tens and falls fast."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 3)
    classes, dim = 12, 16
    protos = torch.randn(classes + 1, dim, generator=g)
    rnn = nn.GRU(dim, 64, batch_first=True, bidirectional=True)
    head = nn.Linear(128, classes + 1)
    model = nn.ModuleList([rnn, head])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    ctc_loss = nn.CTCLoss(blank=0, zero_infinity=True)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            labels, frames, target_lens = [], [], []
            for _ in range(16):
                n = int(torch.randint(3, 7, (1,), generator=g))
                seq = torch.randint(1, classes + 1, (n,), generator=g)
                reps = torch.randint(2, 5, (n,), generator=g)
                frames.append(protos[seq.repeat_interleave(reps)])
                labels.append(seq)
                target_lens.append(n)
            lens = torch.tensor([len(f) for f in frames])
            xb = nn.utils.rnn.pad_sequence(frames, batch_first=True)
            xb = xb + 0.8 * torch.randn(xb.shape, generator=g)
            h, _ = rnn(xb)
            logp = head(h).log_softmax(-1).transpose(0, 1)
            loss = ctc_loss(logp, torch.cat(labels), lens, torch.tensor(target_lens))
            rec.step(step, loss, clip=5.0)


# ------------------------------------------------------------------------------------ changing losses


def uncertainty_weighting(name: str, seed: int, out: str, steps: int = 1000) -> None:
    """Multi-task learning with learnt homoscedastic uncertainty (Kendall et al. 2018): each task's
    loss is weighted by exp(−s) and s added, so the total goes below 0 and keeps falling."""
    torch.manual_seed(seed)
    x, y = images(seed)
    flat = x.flatten(1)
    target = flat.mean(1, keepdim=True) * 10
    trunk, cls_head, reg_head = mlp(flat.shape[1], 64, 128), nn.Linear(64, 10), nn.Linear(64, 1)
    log_vars = nn.Parameter(torch.zeros(2))
    model = nn.ModuleList([trunk, cls_head, reg_head])
    opt = torch.optim.Adam([*model.parameters(), log_vars], lr=1e-3)
    batches = sampler(seed, flat, y, target, batch=64)
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb, tb = next(batches)
            h = torch.relu(trunk(xb))
            ce = nn.functional.cross_entropy(cls_head(h), yb)
            mse = nn.functional.mse_loss(reg_head(h), tb)
            loss = torch.exp(-log_vars[0]) * ce + log_vars[0] + 0.5 * torch.exp(-log_vars[1]) * mse + 0.5 * log_vars[1]
            rec.step(step, loss, ce=ce.item(), mse=mse.item())


def finetune_unfreeze(name: str, seed: int, out: str, steps: int = 800, release: int = 200) -> None:
    """Fine-tuning a pretrained network (pretrained here, unrecorded, on other classes): a new head
    alone first, then the body released at step 200 with a rate ten times lower than the head's."""
    torch.manual_seed(seed)
    x, y = images(seed)
    body, old_head = SmallCNN().body, nn.Linear(32, 5)
    pre = torch.optim.Adam([*body.parameters(), *old_head.parameters()], lr=3e-3)
    batches = sampler(seed, x, y, batch=64)
    for _ in range(300):
        xb, yb = next(batches)
        pre.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(old_head(body(xb).flatten(1)), yb % 5).backward()
        pre.step()
    head = nn.Linear(32, 10)
    model = nn.Sequential(body, nn.Flatten(), head)
    body.requires_grad_(False)
    opt = torch.optim.Adam([{"params": head.parameters(), "lr": 3e-3}, {"params": body.parameters(), "lr": 3e-4}])
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            if step == release:
                body.requires_grad_(True)
            xb, yb = next(batches)
            rec.step(step, nn.functional.cross_entropy(model(xb), yb))


def pseudo_label(name: str, seed: int, out: str, steps: int = 1000, start: int = 300) -> None:
    """Semi-supervised learning in the manner of FixMatch (Sohn et al. 2020): 300 labelled images,
    and from step 300 a loss on the unlabelled ones' confident pseudo-labels (from a weak view,
    applied to a strong one), weighted in over 100 steps: the total loss steps up by design."""
    torch.manual_seed(seed)
    x, y = images(seed)
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4)
    labelled = sampler(seed, x[:300], y[:300], batch=32)
    unlabelled = sampler(seed + 1, x[300:], batch=96)
    ce = nn.functional.cross_entropy
    with recording(name, out, model, opt) as rec:
        for step in range(steps):
            xb, yb = next(labelled)
            loss = ce(model(xb), yb)
            weight = min(1.0, max(0.0, (step - start) / 100))
            if weight > 0:
                (ub,) = next(unlabelled)
                with torch.no_grad():
                    probs = model(ub).softmax(-1)
                conf, pseudo = probs.max(-1)
                strong = ub * (torch.rand_like(ub) > 0.3) + 0.5 * torch.randn_like(ub)
                per = ce(model(strong), pseudo, reduction="none")
                loss = loss + weight * (per * (conf > 0.9)).mean()
            rec.step(step, loss, unlabelled_weight=weight)


#: kind -> (split, how it trains), the second round. The split was fixed, and every run made,
#: before any of these was replayed: the dev kinds are looked at, the sealed ones replayed once with
#: the defaults frozen.
NETWORK_KINDS: dict[str, tuple[Split, Kind]] = {
    "gan": ("dev", gan(wasserstein=False)),
    "byol": ("dev", byol),
    "cnn-multistep": ("dev", cnn_multistep),
    "lm-seqlen-warmup": ("dev", lm_seqlen_warmup),
    "uncertainty-weighting": ("dev", uncertainty_weighting),
    "finetune-unfreeze": ("dev", finetune_unfreeze),
    "wgan-gp": ("sealed", gan(wasserstein=True, steps=1000)),
    "dino": ("sealed", dino),
    "vit-tiny": ("sealed", vit_tiny),
    "gru-tbptt": ("sealed", gru_tbptt),
    "ctc": ("sealed", ctc),
    "pseudo-label": ("sealed", pseudo_label),
}
