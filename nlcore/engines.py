"""The engines that train a learning-rate grid on one batch at a time. An edit here changes speed; a change
to the arithmetic of a step changes results (tests compare the engines with ``torch.optim.Adadelta``).

Both engines take the same calls: ``step(x, y)`` (one AdaDelta step of every model on a batch; returns
the losses, NaN for a diverged model), ``predict(x, k)`` ((G, B, k) top-k classes), ``check_weights()``
(marks models with non-finite weights diverged), ``alive`` (which models are alive) and ``graphable``
(whether :class:`Steps` can capture the step as a CUDA graph).

- :class:`Stacked`: the lr grid as one model with a leading dimension (``torch.func.vmap``), one
  vectorised AdaDelta step with a per-model lr; may be compiled (``torch.compile``) on a CPU.
- :class:`Sequential`: one ``torch.optim.Adadelta`` model per lr, one after the other on each batch; on
  a CPU the models are :func:`nlcore.models.for_cpu`'s rearrangement (the same function, cheaper dropout
  and pooling); under torchrun, DistributedDataParallel.

:class:`Steps` runs the data path and an engine's step; on CUDA (one process) the whole step is
captured once as a CUDA graph and replayed.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from . import models, noise, switches
from .tensors import batch


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


# this process's CUDA-graph capture failures, engine kind -> error: after one, that kind's steps stay eager
GRAPH_FAILURES: dict = {}


def cuda_graphs_enabled(device: str, kind: str) -> bool:
    """CUDA graphs for the steps of an engine of class ``kind``: on CUDA unless ``NLCORE_CUDA_GRAPHS=0``
    or a capture of that kind failed earlier in this process."""
    return device.startswith("cuda") and switches.cuda_graphs_on() and kind not in GRAPH_FAILURES


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


def fixed_step(eng, x, y, device: str):
    """A no-argument step of ``eng`` on the fixed batch (x, y), as :class:`Steps` would run it (on CUDA a
    graph replay, where the engine allows one): for timing an engine without its data path."""
    step = lambda: eng.step(x, y)  # noqa: E731
    kind = type(eng).__name__
    return _replayable(step, kind) if eng.graphable and cuda_graphs_enabled(device, kind) else step


COMPILE_CACHE = 64  # compiled variants (model, precision, loss, ...) kept per process


def compile_strict(fn):
    """``torch.compile(fn)`` that raises instead of quietly running eagerly: a graph break
    (``fullgraph``) or a function's compiled variants past torch's cap (raised to :data:`COMPILE_CACHE`:
    engines of one model, precision and loss share one variant; a sweep process holds a few kinds). The
    callers catch the error, train eagerly and record that they did."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, COMPILE_CACHE)
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    return torch.compile(fn, dynamic=False, fullgraph=True)


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
