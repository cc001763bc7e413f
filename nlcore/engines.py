"""The engines that train a learning-rate grid on one batch at a time. An edit here changes speed; a change
to the arithmetic of a step changes results (tests compare the engines with ``torch.optim.Adadelta``).

Every engine has the interface :class:`Engine` names; the training loop, evaluation and checkpoints use
nothing else of it (the machine choices and the step wrapper also look at ``Stacked``'s compilation, and
benchmarks at its internals):

- :class:`Stacked`: the lr grid as one model with a leading dimension (``torch.func.vmap``), one
  vectorised AdaDelta step with a per-model lr; may be compiled (``torch.compile``) on a CPU.
- :class:`Sequential`: one ``torch.optim.Adadelta`` model per lr, one after the other on each batch; on
  a CPU the models are :func:`nlcore.models.for_cpu`'s rearrangement (the same function, cheaper dropout
  and pooling); under torchrun, DistributedDataParallel.

The third way to run a step, as one captured CUDA graph, wraps either engine: :class:`nlcore.steps.Steps`
(with :mod:`nlcore.graphs`).
"""

from __future__ import annotations

import copy
import math
from typing import Protocol

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from . import models
from .graphs import cuda_graphs_enabled


class Engine(Protocol):
    """What the training loop, evaluation and checkpoints use of an engine of G models (one per lr)."""

    alive: torch.Tensor
    """(G,) bool: models not diverged (a NaN/inf loss or weight marks one diverged for good)."""
    graphable: bool
    """Whether a step reads nothing back to the host, so that it can be captured as a CUDA graph."""
    compiled: bool
    """Whether full batches run a ``torch.compile``'d step."""

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One AdaDelta step of every model on images x (B, C, H, W) float and labels y (B,); returns
        the (G,) losses, NaN for a diverged model."""

    def predict(self, x: torch.Tensor, k: int = 1) -> torch.Tensor:
        """(G, B, k) int64: the k most likely classes per model, most likely first (evaluation mode)."""

    def check_weights(self) -> None:
        """Mark diverged every model whose weights are no longer finite."""

    def first_weights(self) -> torch.Tensor:
        """(G, out, in) the weights of every model's first dense layer on the pixels (perceptron, MLPs)."""

    def state(self) -> dict:
        """Every model's weights and optimiser state and ``alive``: copies on the CPU (a checkpoint)."""

    def load_state(self, state: dict) -> None:
        """Put :meth:`state`'s output back, in place (tensors a compiled step or a CUDA graph holds stay)."""


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


def distributed() -> bool:
    """True inside a torch.distributed process group of more than one process (torchrun)."""
    return torch.distributed.is_available() and torch.distributed.is_initialized() \
        and torch.distributed.get_world_size() > 1


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

    compiled = False

    def __init__(self, net, lrs, cfg, device, *, precision: str, channels_last: bool, on_device: bool | None = None):
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
        # on the device where a step must read nothing back; else on the CPU, read at every step
        self.alive = torch.ones(len(lrs), dtype=torch.bool, device=device if self.on_device else "cpu")

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
        self.alive &= torch.tensor(ok, device=self.alive.device)

    def first_weights(self) -> torch.Tensor:
        return torch.stack([getattr(n, "module", n)[1].weight.detach() for n in self.nets])

    def state(self) -> dict:
        return dict(kind="Sequential", alive=self.alive.cpu().clone(),
                    nets=[_cpu(n.state_dict()) for n in self.nets],
                    opts=[_cpu(o.state_dict()) for o in self.opts])

    @torch.no_grad()
    def load_state(self, state: dict) -> None:
        self.alive.copy_(torch.as_tensor(state["alive"]))
        for n, sd in zip(self.nets, state["nets"]):
            n.load_state_dict(sd)
        for o, sd in zip(self.opts, state["opts"]):
            o.load_state_dict(sd)

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

    def __init__(self, net, lrs, cfg, device, *, precision: str, channels_last: bool = False, compiled: bool = False):
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

    def first_weights(self) -> torch.Tensor:
        return self.params["1.weight"]

    def state(self) -> dict:
        # dropout masks (buffers ending in ".mask") are drawn afresh at every step: not state
        return dict(kind="Stacked", alive=self.alive.cpu().clone(),
                    **{name: {k: _cpu(v) for k, v in getattr(self, name).items() if not k.endswith(".mask")}
                       for name in ("params", "buffers", "v", "a")})

    @torch.no_grad()
    def load_state(self, state: dict) -> None:
        self.alive.copy_(torch.as_tensor(state["alive"]))
        for name in ("params", "buffers", "v", "a"):
            for k, t in getattr(self, name).items():
                if not k.endswith(".mask"):
                    t.copy_(state[name][k])

    @torch.no_grad()
    def predict(self, x, k: int = 1) -> torch.Tensor:
        """(G, B, k) the k most likely classes per model, most likely first."""
        was = self.base.training
        self.base.eval()
        out = self._logits(self.params, self.buffers, x).float().topk(k, -1).indices
        self.base.train(was)
        return out


COMPILE_CACHE = 64  # compiled variants (model, precision, loss, ...) kept per process


def compile_strict(fn):
    """``torch.compile(fn)`` that raises instead of quietly running eagerly: a graph break
    (``fullgraph``) or a function's compiled variants past torch's cap (raised to :data:`COMPILE_CACHE`:
    engines of one model, precision and loss share one variant; a sweep process holds a few kinds). The
    callers catch the error, train eagerly and record that they did."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, COMPILE_CACHE)
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    return torch.compile(fn, dynamic=False, fullgraph=True)


def _cpu(obj):
    """A copy of ``obj`` (tensors, and dicts and lists of them) with every tensor on the CPU."""
    if torch.is_tensor(obj):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_cpu(v) for v in obj]
    return obj
