"""Training: one config, every learning rate of its grid, on the same batches.

The loop (airbench style): images stay uint8 tensors on the device; an epoch is
a random permutation of the ``n * (1 + alpha)`` slots of the diluted set; a
batch gathers the images its slots show and the labels
:func:`nlcore.noise.slot_labels` draws for them. No DataLoader, no copy of the
noisy set. Two engines:

- ``stacked``: the lr grid as one model with a leading dimension
  (``torch.func.vmap``), one vectorised AdaDelta step with a per-model lr.
- ``sequential``: one ``torch.optim.Adadelta`` model per lr, one after the
  other on each batch.

``engine="auto"`` measures both on the machine at hand (:func:`choose_engine`), and ``precision="auto"``
fp32 against bf16 autocast. On a CPU two more choices: the sequential models are
:func:`nlcore.models.for_cpu`'s rearrangement (the same function, cheaper dropout and pooling), and for a
run long enough to pay for it the stacked step may be compiled with ``torch.compile``
(:func:`choose_compiled`). On a 2-core EPYC with avx512_bf16 the ConvNets ran fastest sequential in bf16
with channels_last, the perceptron and MLPs stacked and compiled; on an H200 (measured before the
sequential engine could be captured too) every model stacked, its whole step one CUDA graph
(benchmarks/results/). On CUDA (one process) either engine's step of the whole grid is one CUDA graph.

A model whose loss turns NaN/inf (or whose weights do, checked before every evaluation) is marked diverged
and reported without accuracies; the others go on, untouched by it.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from . import checkpoint as ckpt
from . import data, models, noise

VAL_SEED = 20171  # the held-out validation split is the same for every run of a dataset


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


# ----------------------------------------------------------------------------- data


def prepare(cfg: dict, device: str) -> dict:
    """Tensors a run needs, on ``device``: clean subset, val split, test set, noise tables."""
    x, y = data.load(cfg["dataset"], "train")
    xt, yt = data.load(cfg["dataset"], "test")
    if cfg["n_test"] is not None and cfg["n_test"] < len(yt):  # a fixed subset, the same for every run
        keep = torch.randperm(len(yt), generator=torch.Generator().manual_seed(VAL_SEED))[: cfg["n_test"]]
        xt, yt = xt[keep], yt[keep]
    m = data.num_classes(cfg["dataset"])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(VAL_SEED))
    val_idx = order[len(x) - cfg["n_val"]:] if cfg["n_val"] else order[:0]
    rest = order[: len(x) - cfg["n_val"]]
    rest = rest[torch.randperm(len(rest), generator=torch.Generator().manual_seed(cfg["seed"]))]
    clean_idx, pool_idx = rest[: cfg["n_clean"]], rest[cfg["n_clean"]:]
    pix_mean, pix_std = data.pixel_stats(x[clean_idx])  # white noise matches them (Exp 3)
    # what the model sees is (x / 255 - mean) / std: x / 255 itself for "unit" inputs
    mean, std = (pix_mean, pix_std) if cfg["inputs"] == "standardized" else (pix_mean * 0, pix_std * 0 + 1)
    ranks = None
    if cfg["delta"] > 0:  # confusing/reverse: measured ranks stored in the config; random: drawn from the seed
        ranks = noise.class_order("random", m, seed=cfg["seed"]) if cfg["ranks"] is None else np.array(cfg["ranks"])
    T = noise.transition_matrix(cfg["alpha"], m, cfg["delta"], ranks)
    d = dict(
        x=x[clean_idx].to(device), y=y[clean_idx].to(device), m=m,
        xval=x[val_idx].to(device), yval=y[val_idx].to(device), xtest=xt.to(device), ytest=yt.to(device),
        mean=mean.view(1, -1, 1, 1).to(device), std=std.view(1, -1, 1, 1).to(device),
        pix_mean=pix_mean.to(device), pix_std=pix_std.to(device),
        thr=noise.thresholds(T).to(device), T=T, pool=None,
    )
    if not cfg["repeat"]:
        if cfg["noise_source"] == "same":  # Fig 7 "unique": the rest of the training set
            d["pool"] = x[pool_idx].to(device)
        elif cfg["noise_source"] == "other":  # Exp 3: CIFAR-100 images for CIFAR-10
            d["pool"] = data.load("cifar100", "train")[0].to(device)
    return d


def white_noise(slots: torch.Tensor, shape, mean, std, seed: int) -> torch.Tensor:
    """Gaussian images with the clean data's per-channel mean/std (in [0, 1] units), shape (B, *shape).

    A pure function of (seed, slot): every pixel's two uniforms come from
    :func:`nlcore.noise.slot_hash`, turned Gaussian by Box-Muller, so a slot shows the same
    image in any batch, epoch or machine.
    """
    c, h, w = shape
    key = noise.slot_hash(slots, seed, stream=2).unsqueeze(1)  # (B, 1)
    pix = torch.arange(c * h * w, device=slots.device, dtype=torch.int64)
    u1 = (noise.hash32(key ^ noise.hash32(2 * pix)).double() + 0.5) / 2**32
    u2 = (noise.hash32(key ^ noise.hash32(2 * pix + 1)).double() + 0.5) / 2**32
    z = (torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)).float().view(-1, c, h, w)
    return z * std + mean


def batch(d: dict, cfg: dict, slots: torch.Tensor, labels: torch.Tensor):
    """Normalised float images (B, C, H, W) and labels (B,) for a batch of slots."""
    n = len(d["y"])
    # no branch on the batch's contents: nothing is read back to the host (a CUDA graph can hold this)
    if cfg["noise_source"] == "white":
        xb = d["x"][slots % n].float().div_(255)
        if slots.numel() and noise.dilution_size(n, cfg["alpha"]) > n:  # every slot's noise, clean ones' unused
            noisy = (slots >= n).view(-1, 1, 1, 1)
            pix = d["pix_mean"].view(-1, 1, 1), d["pix_std"].view(-1, 1, 1)
            xb = torch.where(noisy, white_noise(slots, xb.shape[1:], *pix, cfg["seed"]), xb)
    else:
        from_pool, idx = noise.noisy_image_index(slots, n, cfg["repeat"], 0 if d["pool"] is None else len(d["pool"]))
        xb = d["x"][idx.clamp(max=n - 1)]
        if d["pool"] is not None and not cfg["repeat"]:
            xb = torch.where(from_pool.view(-1, 1, 1, 1), d["pool"][idx.clamp(max=len(d["pool"]) - 1)], xb)
        xb = xb.float().div_(255)
    return (xb - d["mean"]) / d["std"], labels


# ----------------------------------------------------------------------------- loss


def label_smoothing(cfg: dict) -> float:
    """The smoothing that turns cross-entropy into the paper's noisy loss H_alpha (0 for plain cross-entropy).

    H_alpha (eq. 3) = 1/(1+alpha) * CE(y) + alpha/(1+alpha) * mean_k(-log p_k), and
    ``F.cross_entropy(label_smoothing=s)`` = (1-s) * CE(y) + s * mean_k(-log p_k): so s = alpha / (1 + alpha).
    """
    return cfg["alpha"] / (1 + cfg["alpha"]) if cfg["loss"] == "h_alpha" else 0.0


def h_alpha(logits: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """The noisy loss H_alpha of eq. 3, averaged over the batch.

    Parameters
    ----------
    logits : (B, m) float tensor; y : (B,) int64 true classes f0(x); alpha : noisy labels per clean one.

    The expected cross-entropy of a uniform-noise batch in the infinite-batch limit: the true label
    with probability 1/(1+alpha), each class k with alpha/(m(1+alpha)). Scalar tensor.
    """
    return F.cross_entropy(logits, y, label_smoothing=alpha / (1 + alpha))


# ----------------------------------------------------------------------------- engines


class Sequential:
    """One model + torch.optim.Adadelta per learning rate.

    On a CPU the model is :func:`nlcore.models.for_cpu`'s rearrangement of the paper's: the same function
    and initial weights, with ReLU after max-pooling and dropout masks drawn from random bytes.

    Under ``torchrun`` (a process group initialised) each model is wrapped in
    DistributedDataParallel: every rank trains on its shard of each batch and the
    gradients are averaged, so the step equals the single-process one on the whole batch.
    Batch norm is synchronised across ranks on GPUs; on CPUs (where torch has no
    SyncBatchNorm) each rank normalises its own shard, a small departure for ResNets.

    ``on_device`` (default: on CUDA, one process): a step reads nothing back to the host, so
    :class:`Steps` can capture the whole grid's step as one CUDA graph, as for :class:`Stacked` (the
    optimisers are then ``capturable``, unless graphs are off); a diverged model is stepped on like the
    others (its NaNs stay its own) and marked by its loss on the device. Otherwise each loss is read at
    its step and a diverged model is skipped from then on.
    """

    def __init__(self, net, lrs, cfg, device, precision, channels_last, on_device: bool | None = None):
        self.cl = channels_last
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        if device == "cpu":  # the same function, rearranged for a CPU (cheaper dropout masks, pooling first)
            net = models.for_cpu(net, channels_last)
        self.nets = [copy.deepcopy(net).to(device, memory_format=fmt) for _ in lrs]
        self.ddp, cuda = distributed(), device.startswith("cuda")
        if self.ddp:
            from torch.nn.parallel import DistributedDataParallel

            ids = [torch.device(device).index] if cuda else None
            if cuda:  # batch-norm statistics over the whole batch, as one process has them (GPU only in torch)
                self.nets = [torch.nn.SyncBatchNorm.convert_sync_batchnorm(n) for n in self.nets]
            self.nets = [DistributedDataParallel(n, device_ids=ids) for n in self.nets]
        self.on_device = (cuda and not self.ddp) if on_device is None else on_device
        # capturable only where a graph will hold the step (eagerly it is slower, and torch warns)
        capturable = cuda and self.on_device and cuda_graphs_enabled(device, "Sequential")
        self.opts = [torch.optim.Adadelta(n.parameters(), lr=lr, rho=cfg["rho"], eps=cfg["eps"], capturable=capturable)
                     for n, lr in zip(self.nets, lrs)]
        self.bf16, self.device = precision == "bf16", device
        self.smoothing = label_smoothing(cfg)
        self.alive = torch.ones(len(lrs), dtype=torch.bool, device=device) if self.on_device else [True] * len(lrs)

    @property
    def graphable(self) -> bool:
        """Whether a step can be captured as a CUDA graph (nothing read back to the host)."""
        return self.on_device

    def _loss(self, net, x, y) -> torch.Tensor:
        # autocast's weight cache off: a CUDA graph cannot capture it
        with torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16, enabled=self.bf16,
                            cache_enabled=not self.on_device):
            return F.cross_entropy(net(x).float(), y, label_smoothing=self.smoothing)

    def _fmt(self, x):
        return x.contiguous(memory_format=torch.channels_last) if self.cl else x

    def step(self, x, y) -> torch.Tensor:
        """One AdaDelta step on (x, y) of every live model (of every model with ``on_device``); returns
        their losses (G,), NaN for a diverged model: float64 on the CPU (each loss read at its step, so a
        NaN is caught before backward), or with ``on_device`` float32 on the device (nothing read back)."""
        x = self._fmt(x)
        if self.on_device:
            return self._step_on_device(x, y)
        losses = []
        for i, (net, opt) in enumerate(zip(self.nets, self.opts)):
            if not self.alive[i]:
                losses.append(math.nan)
                continue
            loss = self._loss(net, x, y)
            mean = self._mean(loss)
            if not math.isfinite(mean):
                self.alive[i] = False
                losses.append(math.nan)
                continue
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(mean)
        return torch.tensor(losses, dtype=torch.float64)

    def _step_on_device(self, x, y) -> torch.Tensor:
        losses = []
        for net, opt in zip(self.nets, self.opts):
            loss = self._loss(net, x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        loss = torch.stack(losses)
        self.alive &= torch.isfinite(loss)
        return torch.where(self.alive, loss, math.nan)

    def check_weights(self) -> None:
        """Mark diverged every model whose weights are no longer finite (checked before each evaluation)."""
        ok = [bool(all(torch.isfinite(p).all() for p in net.parameters())) for net in self.nets]
        if self.on_device:
            self.alive &= torch.tensor(ok, device=self.alive.device)
        else:
            self.alive = [a and o for a, o in zip(self.alive, ok)]

    def _mean(self, loss) -> float:
        """The loss averaged over the ranks (the whole batch's); NaN/inf on any rank makes it non-finite,
        so every rank takes the same diverged-or-not decision before backward."""
        if not self.ddp:
            return loss.item()
        t = loss.detach().clone().reshape(1)
        torch.distributed.all_reduce(t)
        return t.item() / torch.distributed.get_world_size()

    @torch.no_grad()
    def predict(self, x, k: int = 1) -> torch.Tensor:
        """(G, B, k) the k most likely classes per model, most likely first."""
        x = self._fmt(x)
        outs = []
        for net in (getattr(n, "module", n) for n in self.nets):
            net.eval()
            with torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16, enabled=self.bf16):
                outs.append(net(x).float().topk(k, 1).indices)
            net.train()
        return torch.stack(outs)


def _dropout_inputs(net, x_shape) -> list[tuple]:
    """The shape of what each ``nn.Dropout`` of ``net`` sees for an input of ``x_shape`` (on meta tensors)."""
    shapes = []
    meta = copy.deepcopy(net).to("meta")
    hooks = [m.register_forward_hook(lambda mod, inp, out: shapes.append(tuple(inp[0].shape)))
             for m in meta.modules() if type(m) is torch.nn.Dropout]
    with torch.no_grad():
        meta(torch.zeros(x_shape, device="meta"))
    for h in hooks:
        h.remove()
    return shapes


class Stacked:
    """The lr grid as one vmapped model; AdaDelta vectorised with a per-model lr.

    AdaDelta (Zeiler 2012, as torch implements it): ``v = rho v + (1-rho) g^2``;
    ``u = sqrt(a + eps) / sqrt(v + eps) * g``; ``a = rho a + (1-rho) u^2``;
    ``p -= lr * u``. Matches torch.optim.Adadelta to float tolerance (tested).
    """

    def __init__(self, net, lrs, cfg, device, precision, channels_last=False, compiled=False):
        # on a CPU, dropout masks are drawn outside the (compiled) step, as buffers (models.MaskDropout)
        masked = torch.device(device).type == "cpu" and any(type(m) is torch.nn.Dropout for m in net.modules())
        self._plain = net if masked else None  # the shapes its dropouts see are measured at the first step
        if masked:
            net = models.with_mask_dropout(net)
        nets = [copy.deepcopy(net).to(device) for _ in lrs]
        self.params, self.buffers = stack_module_state(nets)
        self.params = {k: v.detach() for k, v in self.params.items()}
        self.masks = [(k, m.p) for k, m in net.named_modules() if isinstance(m, models.MaskDropout)]
        self.base = copy.deepcopy(net).to("meta")
        self.lr = torch.tensor(lrs, device=device)
        self.rho, self.eps = cfg["rho"], cfg["eps"]
        self.v = {k: torch.zeros_like(p) for k, p in self.params.items()}
        self.a = {k: torch.zeros_like(p) for k, p in self.params.items()}
        self.alive = torch.ones(len(lrs), dtype=torch.bool, device=device)
        self.bf16, self.device = precision == "bf16", device
        smoothing = label_smoothing(cfg)

        def loss_fn(p, b, x, y):  # autocast's weight cache off: a CUDA graph cannot capture it
            with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False):
                out = functional_call(self.base, (p, b), (x,))
            return F.cross_entropy(out.float(), y, label_smoothing=smoothing)

        def logits(p, b, x):
            with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False):
                return functional_call(self.base, (p, b), (x,))

        self._gv = vmap(grad_and_value(loss_fn), in_dims=(0, 0, None, None), randomness="different")
        self._logits = vmap(logits, in_dims=(0, 0, None), randomness="different")
        # torch.compile (inductor) of the whole step, for full batches only: one shape, one compilation
        self.batch_size, self.compile_error = cfg["batch_size"], None
        self._compiled = compile_strict(self._step) if compiled else None

    def _finite_per_model(self, tensors) -> torch.Tensor:
        ok = torch.ones_like(self.alive)
        for t in tensors:
            ok &= torch.isfinite(t).flatten(1).all(1)
        return ok

    def check_weights(self) -> None:
        """Mark diverged every model whose weights are no longer finite (checked before each evaluation)."""
        self.alive &= self._finite_per_model(self.params.values())

    def step(self, x, y) -> torch.Tensor:
        """One vectorised AdaDelta step on (x, y); returns the losses, float32 (G,) on the device (NaN for a
        diverged model). Nothing is read back to the host, so a CUDA graph can hold the whole step.
        With ``compiled``, a full batch runs the compiled step (an epoch's short last batch, eagerly)."""
        self.draw_masks(x)
        if self._compiled is not None and len(y) == self.batch_size:
            try:
                return self._compiled(x, y)
            except Exception as e:  # noqa: BLE001 -- raised while compiling, before any state changed
                self._compiled, self.compile_error = None, repr(e)[:500]
        return self._step(x, y)

    @torch.no_grad()
    def draw_masks(self, x: torch.Tensor) -> None:
        """New dropout masks for every model, 0 or 1 / (1 - p), each (G, batch_size, ...): on a CPU (on a GPU
        the step draws its own)."""
        if self.masks and self.buffers[f"{self.masks[0][0]}.mask"].numel() == 0:  # the first step: allocate
            shapes = _dropout_inputs(self._plain, (self.batch_size, *x.shape[1:]))
            for (k, _), shape in zip(self.masks, shapes):
                self.buffers[f"{k}.mask"] = torch.zeros(len(self.lr), *shape, device=x.device)
        for k, p in self.masks:
            buf = self.buffers[f"{k}.mask"]
            keep = models.keep_mask(buf.shape, buf.stride(), p, buf.device)
            buf.copy_(keep).mul_(1 / (1 - p))

    @property
    def graphable(self) -> bool:
        """A step reads nothing back to the host: Steps can capture it as a CUDA graph (not with CPU masks)."""
        return not self.masks

    @property
    def compiled(self) -> bool:
        """True while full batches run the compiled step (False again after a compilation failed)."""
        return self._compiled is not None

    def _step(self, x, y) -> torch.Tensor:
        grads, loss = self._gv(self.params, self.buffers, x, y)
        self.alive &= torch.isfinite(loss)
        self.update(grads)
        return torch.where(self.alive, loss.detach().float(), math.nan)

    @torch.no_grad()
    def update(self, grads: dict) -> None:
        """The vectorised AdaDelta update of every model from ``grads`` (name -> (G, ...) tensor).

        Diverged models are updated too, unmasked: models are independent, so their non-finite numbers stay
        theirs, and the step is one pass over the state (masking them cost a second pass and, compiled,
        doubled the update's time). A model whose gradients overflow gets non-finite weights, hence a
        non-finite loss at the next step, which marks it diverged; :meth:`check_weights` runs before every
        evaluation, so a model diverging at the last step is caught too."""
        for k, p in self.params.items():
            g, v, a = grads[k], self.v[k], self.a[k]
            v.mul_(self.rho).addcmul_(g, g, value=1 - self.rho)
            u = (a + self.eps).sqrt_().div_((v + self.eps).sqrt_()).mul_(g)
            a.mul_(self.rho).addcmul_(u, u, value=1 - self.rho)
            p.sub_(u * self.lr.view(-1, *[1] * (p.dim() - 1)))

    @torch.no_grad()
    def predict(self, x, k: int = 1) -> torch.Tensor:
        """(G, B, k) the k most likely classes per model, most likely first."""
        was = self.base.training
        self.base.eval()
        out = self._logits(self.params, self.buffers, x).float().topk(k, -1).indices
        self.base.train(was)
        return out


# ----------------------------------------------------------------------------- machine choices


@functools.cache  # once per process
def keep_freed_memory() -> bool:
    """Have glibc's malloc keep the blocks a training step frees, for the next step to reuse (Linux with
    glibc; elsewhere, or with ``NLCORE_MALLOC=0``, nothing happens). Returns whether it applies. Called by
    :func:`make_engine` on a CPU; the setting is the whole process's, so a benchmark's baseline in the
    same process gets it too.

    torch takes CPU tensors from malloc. glibc serves blocks above 128 KiB (a threshold it raises as such
    blocks are freed, up to 32 MiB) with fresh pages from ``mmap`` and returns them to the OS when they
    are freed, so a step whose temporaries are a few MiB (a compiled MLP step's buffers, a ConvNet's
    activations) faulted its pages in again at every step: in a scratch A/B on a 2-core EPYC, 250
    compiled MLP-4 steps took 690k-970k page faults and 21-25 ms a step by default, 167k and 18.5-20.5 ms
    with this. Here blocks up to 32 MiB come from the heap, and each arena's heap is trimmed only when more
    than 1 GiB of it is free: memory freed after a peak may stay with the process; the peak itself is
    that of the live tensors (``benchmarks/throughput.py``'s memory figure, 0.82 GiB, did not change).
    """
    if platform.system() != "Linux" or os.environ.get("NLCORE_MALLOC", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(None)  # this process's own C library
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
        return hasattr(libc, "gnu_get_libc_version") and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 \
            and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
    except (OSError, AttributeError):
        return False


def distributed() -> bool:
    """True inside a torch.distributed process group of more than one process (torchrun)."""
    return torch.distributed.is_available() and torch.distributed.is_initialized() \
        and torch.distributed.get_world_size() > 1

_CALIBRATION: dict = {}  # this process's copy of the calibration file


def calibration_file() -> Path:
    """Where measured machine choices are kept: ``$NLCORE_CALIBRATION``, else ``~/.cache/nlcore/calibration.json``."""
    return Path(os.environ.get("NLCORE_CALIBRATION") or data.cache_dir() / "calibration.json")


def _read_calibration(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def calibrated(key: tuple, measure):
    """The stored answer for ``key`` (model, shapes, machine, torch version...), measuring it on first use.

    Stored in :func:`calibration_file` under a file lock, so every process on a machine with the same
    thread count (sweeps, notebooks) makes the same choice and their runs agree bit for bit; the first
    process to need an answer measures it while the others wait. A measurement taken while the CPU was
    busy with other work is kept too: delete the file to measure again (also after a hardware change).
    """
    import fcntl

    k = json.dumps([platform.node(), platform.processor(), torch.__version__, torch.get_num_threads(), *key])
    if k not in _CALIBRATION:
        path = calibration_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process measures; the others wait and read its answer
            stored = _read_calibration(path)
            if k not in stored:
                stored[k] = measure()
                tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(stored, indent=0))
                os.replace(tmp, path)
        _CALIBRATION[k] = stored[k]
    return _CALIBRATION[k]


def _random_batch(cfg: dict, shape, device: str):
    """A fixed random batch (images, labels) for timing a step; leaves torch's global RNG alone."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(cfg["batch_size"], *shape, generator=g)
    return x.to(device), torch.randint(0, 10, (cfg["batch_size"],), generator=g).to(device)


# this process's CUDA-graph capture failures, engine kind -> error: after one, that kind's steps stay eager
GRAPH_FAILURES: dict = {}


def cuda_graphs_enabled(device: str, kind: str) -> bool:
    """CUDA graphs for the steps of an engine of class ``kind``: on CUDA unless ``NLCORE_CUDA_GRAPHS=0``
    or a capture of that kind failed earlier in this process."""
    return device.startswith("cuda") and os.environ.get("NLCORE_CUDA_GRAPHS", "1") != "0" and kind not in GRAPH_FAILURES


def capture(fn, kind: str):
    """``(graph, out)``: fn() recorded as a CUDA graph (recorded, not run: ``graph.replay()`` runs it;
    ``out`` is the graph's static output, overwritten by every replay). On failure ``(None, None)``:
    the caller's stream is restored (torch's context manager does not on an error), the error is kept in
    :data:`GRAPH_FAILURES` under ``kind`` (the engine's class name) and no later capture of that kind is
    tried in this process."""
    stream = torch.cuda.current_stream()
    try:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = fn()
        return graph, out
    except Exception as e:  # noqa: BLE001 -- whatever stops a capture, training goes on eagerly
        torch.cuda.set_stream(stream)
        torch.cuda.synchronize()
        GRAPH_FAILURES[kind] = repr(e)[:500]
        return None, None


def _replayable(fn, kind: str, warmup: int = 3):
    """fn (no arguments) captured as a CUDA graph after ``warmup`` side-stream calls: returns the graph's
    replay, or fn itself if the capture fails."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph, _ = capture(fn, kind)
    return fn if graph is None else graph.replay


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def fixed_step(eng, x, y, device: str):
    """A no-argument step of ``eng`` on the fixed batch (x, y), as :class:`Steps` would run it (on CUDA a
    graph replay, where the engine allows one): for timing an engine without its data path."""
    step = lambda: eng.step(x, y)  # noqa: E731
    kind = type(eng).__name__
    return _replayable(step, kind) if eng.graphable and cuda_graphs_enabled(device, kind) else step


def best_times(calls: dict, device: str = "cpu", repeats: int = 3, steps: int = 4, warmup: int = 2) -> dict:
    """Seconds per call of each no-argument callable in ``calls`` (name -> callable): ``warmup`` untimed
    calls each, then ``repeats`` rounds of ``steps`` timed calls, the callables taking turns round by round;
    each keeps its best round. Taking turns and keeping the best make a comparison robust to a burst of
    other work on the machine (a single timing once picked a 1.7x slower engine)."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    best = {name: math.inf for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            _sync(device)
            t = time.perf_counter()
            for _ in range(steps):
                call()
            _sync(device)
            best[name] = min(best[name], (time.perf_counter() - t) / steps)
    return best


def fastest(engines: dict, x, y, device: str, repeats: int = 3, steps: int = 4):
    """The key of the fastest engine in ``engines`` (name -> engine) on the batch (x, y), timed by
    :func:`best_times`. On CUDA the steps are graph replays, as :class:`Steps` runs them."""
    best = best_times({name: fixed_step(eng, x, y, device) for name, eng in engines.items()}, device,
                      repeats, steps)
    return min(best, key=best.get)


def _model_key(cfg: dict) -> tuple:
    """The model in calibration keys: its name, and its MLP dropout where it has one (a model with dropout
    steps at another speed; without, the key is the model's name alone, as before dropout was a field)."""
    return (cfg["model"],) + (("mlp_dropout", cfg["mlp_dropout"]) if cfg.get("mlp_dropout") else ())


def choose_precision(cfg: dict, net, device: str, shape) -> tuple[str, bool]:
    """(precision, channels_last): cfg's choice, or on 'auto' the faster of fp32 and bf16 autocast (with
    channels_last for convolutions) for this model, measured on this machine (:func:`calibrated`)."""
    conv = any(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    if cfg["precision"] != "auto":
        return cfg["precision"], conv and cfg["precision"] == "bf16"
    if device.startswith("cuda"):
        return "bf16", conv

    def measure():
        x, y = _random_batch(cfg, shape, device)
        engines = {o: Sequential(net, [0.1], cfg, device, *o) for o in (("fp32", False), ("bf16", conv))}
        return list(fastest(engines, x, y, device))

    return tuple(calibrated(("precision", 4, *_model_key(cfg), list(shape), cfg["batch_size"], device), measure))


def choose_engine(cfg: dict, net, device: str = "cpu", shape=(1, 28, 28), precision: str = "fp32",
                  channels_last: bool = False) -> str:
    """cfg's engine, or on 'auto' the faster of stacked and sequential for this model, lr grid and machine,
    measured over a few steps (:func:`calibrated`). Batch-norm models train sequentially (their running
    statistics do not vmap), and so does a grid of one learning rate."""
    if cfg["engine"] != "auto":
        return cfg["engine"]
    if models.has_batchnorm(net) or len(cfg["lrs"]) == 1 or distributed():
        return "sequential"

    def measure():
        x, y = _random_batch(cfg, shape, device)
        return fastest({name: cls(net, cfg["lrs"], cfg, device, precision, channels_last)
                        for name, cls in (("stacked", Stacked), ("sequential", Sequential))}, x, y, device)

    key = ("engine", 4, *_model_key(cfg), list(shape), cfg["batch_size"], len(cfg["lrs"]), precision, channels_last,
           device)
    # on CUDA the steps of each engine whose captures have not failed are graph replays (both since "2")
    graphed = [k for k in ("Stacked", "Sequential") if cuda_graphs_enabled(device, k)]
    return calibrated(key + (("cuda_graphs", 2, *graphed) if graphed else ()), measure)


COMPILE_CACHE = 64  # compiled variants (model, precision, loss, ...) kept per process
COMPILE_WORTH_S = 30.0  # runs expected to take less than this eagerly are never compiled (compiling: 2-20 s)


def compile_strict(fn):
    """``torch.compile(fn)`` that raises instead of quietly running eagerly: a graph break
    (``fullgraph``) or a function's compiled variants past torch's cap (raised to :data:`COMPILE_CACHE`:
    engines of one model, precision and loss share one variant; a sweep process holds a few kinds). The
    callers catch the error, train eagerly and record that they did."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, COMPILE_CACHE)
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    return torch.compile(fn, dynamic=False, fullgraph=True)


def compile_enabled(device: str) -> bool:
    """torch.compile is tried on CPUs only (CUDA has its graphs), unless ``NLCORE_COMPILE=0``."""
    return device == "cpu" and os.environ.get("NLCORE_COMPILE", "1") != "0"


def choose_compiled(cfg: dict, net, device: str, shape, precision: str, channels_last: bool, eager: str,
                    steps: int | None) -> bool:
    """Whether to train the lr grid stacked with its step compiled (``torch.compile``), instead of the
    ``eager`` engine: measured on this machine (:func:`calibrated`), and only where it pays for itself.

    Two measurements, each once per machine and model: the eager engine's seconds per step; then, only for
    a run long enough that compiling could pay (``steps`` times that above :data:`COMPILE_WORTH_S`), the
    compiled stacked step's seconds per step and the seconds its compilation took. Compiled when
    ``steps * (eager - compiled) > compilation`` (``steps=None``: a run of unbounded length, as the
    benchmark times). A compilation that fails (no C++ compiler, say) is stored and never tried again.
    """
    if (not compile_enabled(device) or cfg["engine"] == "sequential" or models.has_batchnorm(net)
            or len(cfg["lrs"]) == 1 or distributed()):
        return False
    x, y = _random_batch(cfg, shape, device)
    base = ("model", *_model_key(cfg), list(shape), cfg["batch_size"], len(cfg["lrs"]), precision, channels_last,
            device)

    def seconds_per_step(eng):
        return best_times({"step": lambda: eng.step(x, y)}, device)["step"]

    cls = Stacked if eager == "stacked" else Sequential
    eager_s = calibrated(("eager_step_s", 2, eager, *base),
                         lambda: seconds_per_step(cls(net, cfg["lrs"], cfg, device, precision, channels_last)))
    if steps is not None and steps * eager_s < COMPILE_WORTH_S:
        return False

    def measure():
        try:
            eng = Stacked(net, cfg["lrs"], cfg, device, precision, channels_last, compiled=True)
            t = time.perf_counter()
            eng.step(x, y)  # compiles
            if not eng.compiled:  # the compilation failed and the step ran eagerly: no timing of that
                return dict(error=eng.compile_error)
            return dict(compile_s=time.perf_counter() - t, step_s=seconds_per_step(eng))
        except Exception as e:  # noqa: BLE001 -- whatever stops a compilation, the eager engine trains
            return dict(error=repr(e)[:500])

    c = calibrated(("compiled", 3, *base), measure)
    if "error" in c:
        return False
    if steps is None:
        return c["step_s"] < eager_s
    return steps * (eager_s - c["step_s"]) > c["compile_s"]


# ----------------------------------------------------------------------------- the loop


def make_engine(cfg: dict, d: dict, device: str, steps: int | None = None):
    """The model of ``cfg`` (initialised from its seed) and the engine that trains its lr grid, with the
    machine's choices: precision, memory format, stacked or sequential (under torchrun, rank 0's).

    ``steps``: the run's length, for :func:`choose_compiled` (None: unbounded).
    Returns ``(engine, info)``; info: ``engine``, ``precision``, ``channels_last``, ``compiled``,
    ``world_size``, ``rank``.
    """
    if torch.device(device).type == "cpu":
        keep_freed_memory()
    else:  # full batches share one shape: cuDNN times its convolution algorithms once and keeps the fastest
        torch.backends.cudnn.benchmark = os.environ.get("NLCORE_CUDNN_BENCHMARK", "1") != "0"
    torch.manual_seed(cfg["seed"])
    shape = tuple(d["x"].shape[1:])
    net = models.build(cfg["model"], shape[0], shape[1], d["m"], cfg["width"], init=cfg["init"],
                       mlp_dropout=cfg["mlp_dropout"])
    precision, cl = choose_precision(cfg, net, device, shape)
    name = choose_engine(cfg, net, device, shape, precision, cl)
    world, rank = 1, 0
    if distributed():  # every rank must make the same choices: rank 0's are broadcast
        world, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
        choice = [precision, cl]
        torch.distributed.broadcast_object_list(choice, src=0)
        (precision, cl), name = choice, "sequential"
        if cfg["batch_size"] % world or noise.dilution_size(cfg["n_clean"], cfg["alpha"]) < world:
            raise ValueError(f"batch_size={cfg['batch_size']} must be a multiple of the {world} processes, "
                             f"and the diluted set at least {world} examples")
    compiled = world == 1 and choose_compiled(cfg, net, device, shape, precision, cl, name, steps)
    torch.manual_seed(cfg["seed"])
    if compiled:
        name, eng = "stacked", Stacked(net, cfg["lrs"], cfg, device, precision, cl, compiled=True)
    else:
        eng = (Stacked if name == "stacked" else Sequential)(net, cfg["lrs"], cfg, device, precision, cl)
    return eng, dict(engine=name, precision=precision, channels_last=cl, compiled=compiled, world_size=world,
                     rank=rank)


class Steps:
    """Training steps on batches of slots: gather the images, draw the labels, step the engine.

    ``steps(slots)`` takes int64 slot indices (B,) on the device and returns the engine's losses (G,);
    on CUDA that tensor is the graph's static output, overwritten by the next step: use it (or copy it)
    before then. Labels are drawn per batch (a pure function of the slot): no O(n * alpha) temporaries.

    On CUDA (one process, either engine) the whole step of a full batch (gather, labels, forward, backward,
    AdaDelta of every model) is captured once as a CUDA graph, after :attr:`WARMUP` eager steps on a side stream, and
    replayed for every later full batch (an epoch's last, smaller batch runs eagerly): one launch instead
    of hundreds of kernels. A replay launches the kernels the eager step would, with dropout drawing
    fresh numbers each replay. ``NLCORE_CUDA_GRAPHS=0`` turns it off; a capture that fails falls back to
    eager steps (``graph_error`` says why).
    """

    WARMUP = 3

    def __init__(self, d: dict, cfg: dict, eng, device: str):
        self.d, self.cfg, self.eng = d, cfg, eng
        self.kind = type(eng).__name__
        self.graphable = eng.graphable and cuda_graphs_enabled(device, self.kind)
        self.graph, self.calls, self.side = None, 0, None
        self.graph_error = GRAPH_FAILURES.get(self.kind)  # a capture of this kind failed earlier in the process
        # with a compiled engine, the data path of a full batch is compiled too (fused gather and labels)
        self._data = compile_strict(self.data) if isinstance(eng, Stacked) and eng.compiled else None

    @property
    def cuda_graph(self) -> bool:
        return self.graph is not None

    def data(self, slots: torch.Tensor):
        """The batch of ``slots``: normalised images and their drawn labels."""
        d, cfg = self.d, self.cfg
        return batch(d, cfg, slots, noise.slot_labels(slots, d["y"], d["thr"], cfg["seed"]))

    def eager(self, slots: torch.Tensor) -> torch.Tensor:
        xy = None
        if self._data is not None and len(slots) == self.cfg["batch_size"]:
            try:
                xy = self._data(slots)
            except Exception:  # noqa: BLE001 -- the data path failed to compile: eager from now on
                self._data = None
        return self.eng.step(*(xy if xy is not None else self.data(slots)))

    def __call__(self, slots: torch.Tensor) -> torch.Tensor:
        if not self.graphable or len(slots) != self.cfg["batch_size"]:
            return self.eager(slots)
        if self.graph is not None:
            self.static.copy_(slots)
            self.graph.replay()
            return self.out
        self.calls += 1
        if self.calls <= self.WARMUP:  # real training steps, on a side stream as capture wants
            self.side = self.side or torch.cuda.Stream()
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                out = self.eager(slots)
            torch.cuda.current_stream().wait_stream(self.side)
            return out
        self.static = slots.clone()
        self.graph, self.out = capture(lambda: self.eager(self.static), self.kind)
        if self.graph is None:
            self.graphable, self.graph_error = False, GRAPH_FAILURES[self.kind]
            return self.eager(slots)
        self.graph.replay()  # capturing recorded the step without running it
        return self.out


def num_slots(cfg: dict, n: int) -> int:
    """Examples per epoch: the diluted set ``n (1 + alpha)``, or the ``n`` clean ones for loss='h_alpha'."""
    return n if cfg["loss"] == "h_alpha" else noise.dilution_size(n, cfg["alpha"])


def num_steps(cfg: dict) -> int:
    slots = num_slots(cfg, cfg["n_clean"])
    return max(math.ceil(cfg["epochs"] * slots / cfg["batch_size"]), cfg["min_steps"])


def eval_chunk(device) -> int:
    """Images per forward pass when evaluating: 2000 on a GPU; 128 on a CPU, where a ConvNet-4 chunk's
    activations then stay in cache (the test set took 5.8 s for 5 models in chunks of 128, 9-10 s in
    chunks of 256 to 2000, on a 2-core EPYC)."""
    return 2000 if torch.device(device).type == "cuda" else 128


def predictions(engine, x, mean, std, k: int = 1, chunk: int | None = None) -> torch.Tensor:
    """(G, N, k) the k most likely classes of every model of the engine for uint8 images x (N, C, H, W)."""
    chunk = chunk or eval_chunk(x.device)
    return torch.cat([engine.predict((x[i:i + chunk].float().div_(255) - mean) / std, k)
                      for i in range(0, len(x), chunk)], dim=1)


def accuracy(engine, x, y, mean, std, chunk: int | None = None, k: int = 1) -> list[float]:
    """Top-k accuracy of every model of the engine on (x, y): a list of G fractions (NaN when y is empty)."""
    if len(y) == 0:
        return [math.nan] * len(engine.alive)
    return hits(predictions(engine, x, mean, std, k, chunk), y, k)


def hits(pred: torch.Tensor, y: torch.Tensor, k: int = 1) -> list[float]:
    """Top-k accuracy per model from predictions (G, N, >= k) and labels (N,)."""
    return (pred[..., :k] == y.view(1, -1, 1)).any(-1).float().mean(1).tolist()


def confusion_matrix(pred: torch.Tensor, y: torch.Tensor, m: int) -> list[list[int]]:
    """(m, m) counts from one model's top-1 predictions (N,) and labels (N,): ``[c][k]`` = class c predicted as k."""
    return torch.bincount(y * m + pred, minlength=m * m).view(m, m).tolist()


def train(cfg: dict, device: str | None = None, progress: bool = True, checkpoint: Path | None = None) -> dict:
    """Train every lr of ``cfg['lrs']``; return the metrics (see ``nlcore.results`` for the record).

    Returns a dict: ``per_lr`` (one entry per lr: ``curve`` of evaluations with
    ``step``, ``epoch``, ``train_loss``, ``val_acc``, ``test_acc`` and, for the perceptron and MLPs,
    ``dark_drift`` / ``lit_drift`` (:func:`input_drift`); ``val_acc``, ``test_acc``: the mean of the
    last ``cfg['mean_last']`` evaluations; ``diverged``), ``best`` (the lr chosen on
    ``cfg['lr_select']`` and its accuracies), ``steps``, ``slots``, ``engine``,
    ``precision``, ``channels_last``, ``device``, ``world_size``, ``cuda_graph`` (steps replayed as a
    CUDA graph), ``compiled`` (full batches ran the stacked step compiled by torch.compile, to the end of
    the run), ``confusion`` (the chosen lr's (m, m) test confusion counts at the last evaluation,
    ``[c][k]`` = test images of class c predicted as k; None if all diverged), ``resumed_at`` (the steps
    at which the run continued from a checkpoint; empty for a run trained in one process).
    Accuracies are fractions in [0, 1].

    ``checkpoint``: a file (:mod:`nlcore.checkpoint`) the loop saves its state to every few minutes and,
    when it exists, continues from; None: no checkpoints (always None under torchrun).
    """
    if os.environ.get("NLCORE_BOOK") == "1":  # plain text bar: widget state would pull a CDN into the book
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm

    device = device or default_device()
    d = prepare(cfg, device)
    eng, info = make_engine(cfg, d, device, num_steps(cfg))
    world, rank = info["world_size"], info["rank"]
    if world > 1:
        torch.manual_seed(cfg["seed"] * 1000 + rank)  # own dropout masks on each shard
    steps_of = Steps(d, cfg, eng, device)
    drift = InputDrift(eng, d, cfg)

    slots_total = num_slots(cfg, len(d["y"]))
    steps = num_steps(cfg)
    eval_at = {max(1, round(steps * (k + 1) / cfg["evals"])) for k in range(cfg["evals"])}
    gen = torch.Generator().manual_seed(cfg["seed"] + 1)
    curves = [[] for _ in cfg["lrs"]]
    # summed on the device: the loss is read back only at an evaluation, not at every step
    loss_sum, loss_n, step = torch.zeros(len(cfg["lrs"]), dtype=torch.float64, device=device), 0, 0
    perm, pos, resumed_at = None, 0, []
    ck = ckpt.Checkpointer(checkpoint if world == 1 else None, info)
    state = ck.load()
    if state is not None:  # continue where a stopped process left off
        ckpt.load_engine_state(eng, state["engine_state"])
        drift.w0 = state["drift_w0"]
        step, pos, loss_n, curves = state["step"], state["pos"], state["loss_n"], state["curves"]
        perm = None if state["perm"] is None else state["perm"].to(device)
        loss_sum.copy_(state["loss_sum"])
        gen.set_state(state["gen"])
        ckpt.set_rng_state(state["rng"])
        resumed_at = state["resumed_at"] + [step]
    bar = tqdm(total=steps, initial=step, disable=not progress, desc=f"{cfg['model']} alpha={cfg['alpha']:g}",
               leave=False)
    B = cfg["batch_size"]
    while step < steps:
        if perm is None:
            perm, pos = torch.randperm(slots_total, generator=gen).to(device), 0
        for i in range(pos, slots_total, B):
            if step >= steps:
                break
            sl = perm[i:i + B]
            if world > 1:  # equal shards (the epoch's last batch loses up to world-1 slots): mean of means = mean
                keep = len(sl) - len(sl) % world
                if keep == 0:
                    continue
                sl = sl[:keep][rank::world]
            loss_sum += steps_of(sl).to(device, torch.float64)
            loss_n += 1
            step += 1
            bar.update(1)
            if step in eval_at:
                eng.check_weights()
                val = accuracy(eng, d["xval"], d["yval"], d["mean"], d["std"])
                # one pass over the test set gives top-1, top-5 (more than 10 classes) and the confusion matrix
                test_pred = predictions(eng, d["xtest"], d["mean"], d["std"], k=5 if d["m"] > 10 else 1)
                test = hits(test_pred, d["ytest"])
                top5 = hits(test_pred, d["ytest"], 5) if d["m"] > 10 else None
                drifts = drift()
                for g, alive in enumerate(eng.alive):
                    ok = bool(alive)
                    curves[g].append(dict(step=step, epoch=step * B / slots_total,
                                          train_loss=float(loss_sum[g] / loss_n) if ok else None,
                                          val_acc=val[g] if ok and not math.isnan(val[g]) else None,
                                          test_acc=test[g] if ok else None))
                    if top5 is not None:  # ImageNet's measure in the paper (Fig 3); more than 10 classes only
                        curves[g][-1]["test_top5"] = top5[g] if ok else None
                    if drifts is not None:
                        curves[g][-1].update(dark_drift=drifts[0][g] if ok else None,
                                             lit_drift=drifts[1][g] if ok else None)
                loss_sum.zero_()
                loss_n = 0
                bar.set_postfix(test=f"{max((t for t, a in zip(test, eng.alive) if a), default=0):.3f}")
            if ck.due() and step < steps:
                ck.save(dict(engine_state=ckpt.engine_state(eng), drift_w0=drift.w0, step=step, pos=i + B,
                             perm=perm.cpu(), loss_n=loss_n, loss_sum=loss_sum.cpu(), curves=curves,
                             gen=gen.get_state(), rng=ckpt.rng_state(), resumed_at=resumed_at))
        perm = None
    bar.close()
    per_lr = [dict(lr=lr, diverged=not bool(alive), curve=c, **final(c, cfg["mean_last"]))
              for lr, alive, c in zip(cfg["lrs"], eng.alive, curves)]
    best = select_lr(per_lr, cfg["lr_select"])
    cm = None
    if best["lr"] is not None and d["m"] <= 100:  # (ImageNet's 1000 x 1000 would swamp the record)
        # the last evaluation is at the last step: its predictions are the final model's
        cm = confusion_matrix(test_pred[cfg["lrs"].index(best["lr"]), :, 0], d["ytest"], d["m"])
    return dict(per_lr=per_lr, best=best, steps=steps, slots=slots_total, confusion=cm,
                engine=info["engine"], precision=info["precision"], channels_last=info["channels_last"],
                compiled=bool(getattr(eng, "compiled", False)), device=device, world_size=world,
                cuda_graph=steps_of.cuda_graph, resumed_at=resumed_at)


def final(curve: list[dict], mean_last: int) -> dict:
    """The reported accuracies of one lr: the mean of its last ``mean_last`` evaluations (None if any is)."""
    out = {}
    for key in ("val_acc", "test_acc", "test_top5"):
        if key not in curve[-1]:
            continue
        vals = [e[key] for e in curve[-mean_last:]]
        out[key] = None if any(v is None for v in vals) else sum(vals) / len(vals)
    return out


class InputDrift:
    """How far the first layer's weights of the perceptron and MLPs moved from their initial values, per model.

    ``drift()`` returns two lists of G numbers, the RMS change of the weights on always-dark input pixels
    (0 in every clean training image) and on the others, or None for a model whose first layer is not a
    dense layer on the pixels. With ``inputs="unit"`` a dark pixel's input is 0, so its weights get no
    gradient and stay where they started; standardised, every pixel carries an input, and under label
    noise what reaches those weights is the noise alone.
    """

    def __init__(self, eng, d: dict, cfg: dict):
        self.eng, self.w0 = eng, None
        if not (cfg["model"] == "perceptron" or cfg["model"].startswith("mlp")):
            return
        self.dark = (d["x"].flatten(1).amax(0) == 0)
        self.w0 = self.weights().clone()

    def weights(self) -> torch.Tensor:
        """(G, out, in) the first dense layer's weights of every model."""
        if hasattr(self.eng, "nets"):
            return torch.stack([getattr(n, "module", n)[1].weight.detach() for n in self.eng.nets])
        return self.eng.params["1.weight"]

    @torch.no_grad()
    def __call__(self):
        if self.w0 is None:
            return None
        dw = (self.weights().float() - self.w0.float()).pow(2)
        rms = lambda cols: dw[:, :, cols].mean((1, 2)).sqrt().tolist() if bool(cols.any()) else [0.0] * len(dw)  # noqa: E731
        return rms(self.dark), rms(~self.dark)


def select_lr(per_lr: list[dict], on: str) -> dict:
    """The entry with the highest final accuracy on split ``on`` ("val" or "test"), diverged ones excluded."""
    key = f"{on}_acc"
    ok = [p for p in per_lr if not p["diverged"] and p[key] is not None]
    if not ok:
        return dict(lr=None, val_acc=None, test_acc=None, selected_on=on, all_diverged=True)
    best = max(ok, key=lambda p: p[key])
    top5 = {"test_top5": best["test_top5"]} if "test_top5" in best else {}  # ImageNet's measure (Fig 3)
    return dict(lr=best["lr"], val_acc=best["val_acc"], test_acc=best["test_acc"], selected_on=on, **top5)


if __name__ == "__main__":  # tiny manual check
    from .config import make_config

    print(json.dumps(train(make_config("smoke", model="mlp1", alpha=5)), indent=1)[:2000])
