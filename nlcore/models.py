"""The paper's architectures. The paper gives no widths; ours, all config fields:

- ``perceptron``: one linear layer (softmax regression), input pixels -> classes.
- ``mlp1``, ``mlp2``, ``mlp4``: 1, 2 or 4 hidden ReLU layers of ``width`` units (512), each followed by
  dropout ``mlp_dropout`` (Keras ``mnist_mlp.py``: 0.2; 0 = none).
- ``convnet2``: Conv 32 3x3, max-pool 2, Dense classes (Sec 5's "simple 2-layer ConvNet").
- ``convnet4``: Keras ``mnist_cnn.py``: Conv 32 3x3, Conv 64 3x3, max-pool, dropout 0.25,
  Dense 128, dropout 0.5, Dense classes (our reading of "4-layer ConvNet").
- ``convnet6``: Keras ``cifar10_cnn.py``: 2x(Conv 32), pool, 2x(Conv 64), pool, Dense 512,
  Dense classes, with its dropouts (our reading of "6-layer ConvNet"). ``conv_padding``: ``"keras"`` as
  ``cifar10_cnn.py`` has it (the first convolution of each block pads, 'same'; the second does not,
  'valid': 32x32 inputs reach the Dense layer as 64x6x6), ``"same"`` every convolution pads (64x8x8).
- ``resnet18``, ``resnet101``: torchvision's, for 32x32 inputs (3x3 stem, no max-pool)
  when ``side <= 64``; the ImageNet stem otherwise.

Every model takes float images (B, C, H, W), already normalised, and returns
logits (B, classes).

Initialisation (``init``): ``"keras"`` is Keras 2's default for Dense and Conv2D layers, the lineage of
the paper's models: Glorot-uniform weights, U(-b, b) with b = sqrt(6 / (fan_in + fan_out)) (fan counts
multiplied by the kernel's area for a convolution), and zero biases. ``"torch"`` is torch's own
(Kaiming-uniform with a = sqrt(5), biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))). Batch norm layers keep
torch's (weight 1, bias 0) either way.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

INITS = ("keras", "torch")
PADDINGS = ("keras", "same")
MODELS = ("perceptron", "mlp1", "mlp2", "mlp4", "convnet2", "convnet4", "convnet6", "resnet18", "resnet101")


def _conv_out(side: int, k: int = 3) -> int:
    return side - k + 1


def _mlp(in_dim: int, classes: int, hidden: int, *, width: int, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    d = in_dim
    for _ in range(hidden):
        layers += [nn.Linear(d, width), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        d = width
    return nn.Sequential(*layers, nn.Linear(d, classes))


def _resnet(depth: int, channels: int, side: int, classes: int) -> nn.Module:
    import torchvision

    net = {18: torchvision.models.resnet18, 101: torchvision.models.resnet101}[depth](weights=None, num_classes=classes)
    if side <= 64:
        net.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    elif channels != 3:
        net.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    return net


def build(name: str, channels: int, side: int, classes: int, *, width: int = 512, init: str = "torch",
          mlp_dropout: float = 0.0, conv_padding: str = "same") -> nn.Module:
    """A fresh model (random init from torch's global RNG; seed it first).

    Parameters: ``channels``, ``side`` of the square input images; ``classes``;
    ``width`` of the MLP hidden layers; ``init`` one of :data:`INITS`; ``mlp_dropout`` the dropout
    probability after each hidden layer of the MLPs, in [0, 1); ``conv_padding`` ConvNet-6's, one of
    :data:`PADDINGS`.
    """
    if name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {name!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if conv_padding not in PADDINGS:
        raise ValueError(f"conv_padding must be one of {PADDINGS}, got {conv_padding!r}")
    net = _build(name, channels, side, classes, width=width, mlp_dropout=mlp_dropout, conv_padding=conv_padding)
    if init == "keras":
        keras_init(net)
    return net


@torch.no_grad()
def keras_init(net: nn.Module) -> nn.Module:
    """Keras 2's defaults, in place: Glorot-uniform weights and zero biases for every Linear and Conv2d."""
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                m.bias.zero_()
    return net


def _build(name: str, channels: int, side: int, classes: int, *, width: int, mlp_dropout: float,
           conv_padding: str) -> nn.Module:
    d = channels * side * side
    if name == "perceptron":
        return _mlp(d, classes, 0, width=width, dropout=0.0)
    if name.startswith("mlp"):
        return _mlp(d, classes, int(name[3:]), width=width, dropout=mlp_dropout)
    if name == "convnet2":
        s = _conv_out(side) // 2
        return nn.Sequential(nn.Conv2d(channels, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(32 * s * s, classes))
    if name == "convnet4":
        s = _conv_out(_conv_out(side)) // 2
        return nn.Sequential(nn.Conv2d(channels, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(64 * s * s, 128),
                             nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, classes))
    if name == "convnet6":
        second = 1 if conv_padding == "same" else 0  # the second convolution of each block
        s = side // 4 if second else _conv_out(_conv_out(side) // 2) // 2
        return nn.Sequential(nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=second),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=second),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                             nn.Linear(64 * s * s, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, classes))
    return _resnet(int(name[6:]), channels, side, classes)


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Argmax class of each row of x (eval mode restored afterwards)."""
    was = model.training
    model.eval()
    out = model(x).argmax(1)
    model.train(was)
    return out


# ----------------------------------------------------------------------------- the same function, faster on a CPU


def keep_mask(shape, stride, p: float, device) -> torch.Tensor:
    """A bool mask of ``shape`` (with ``stride``: any memory layout), each element True with probability 1 - p.

    Drawn from random integers of torch's (seeded) generator, one call per 8 elements: an element is kept
    when its byte (uniform on 0..255) is at least ``256 p``, exact when 256 p is an integer (0.25, 0.5:
    the ConvNets' dropouts); otherwise when its 32-bit word is at least ``round(2^32 p)``, so P(keep) is
    within 2^-33 of 1 - p (0.2: the MLPs'). The words are uniform over 2^64 - 1 values: the one value
    missing shifts P(keep) by under 1e-18. On a 2-core EPYC ``bernoulli_`` took 10 ms for ConvNet-4's
    (128, 64, 12, 12) activations, this about 1.5 ms.
    """
    n = math.prod(shape)
    t = p * 256
    # all 64 bits random (plain random_() leaves the sign bit 0: every 8th byte would be below 128)
    if t == int(t):
        words = torch.empty((n + 7) // 8, dtype=torch.int64, device=device).random_(-2**63, 2**63 - 1)
        return torch.as_strided(words.view(torch.uint8), shape, stride) >= int(t)
    words = torch.empty((n + 1) // 2, dtype=torch.int64, device=device).random_(-2**63, 2**63 - 1)
    return torch.as_strided(words.view(torch.int32), shape, stride) >= round(p * 2**32) - 2**31


class ByteDropout(nn.Dropout):
    """``nn.Dropout`` with its mask from :func:`keep_mask` (random bytes or 32-bit words instead of one
    draw per element); kept elements are scaled by 1 / (1 - p), as in ``nn.Dropout``. The mask has x's
    memory layout (channels_last or not). p = 0 or 1, or x neither contiguous nor channels_last:
    ``nn.Dropout`` itself.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dense = x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last))
        if not self.training or self.p == 0 or self.p >= 1 or not dense:
            return super().forward(x)
        keep = keep_mask(x.shape, x.stride(), self.p, x.device)
        return torch.where(keep, x * (1 / (1 - self.p)), 0)


class MaskDropout(nn.Module):
    """Dropout whose scaled mask (0 or 1 / (1 - p)) is a buffer set from outside before each step, (B, ...)
    for the largest batch (a smaller batch uses its first rows). The stacked engine draws the masks of all
    its models with :func:`keep_mask` outside its compiled step, where torch.compile cannot draw them cheaply
    (inductor's dropout on a CPU: 4.4 ms for MLP-1's (5, 128, 512) activations; random words: 0.2 ms)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.register_buffer("mask", torch.empty(0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * self.mask[: x.shape[0]].to(x.dtype)


def with_mask_dropout(net: nn.Module) -> nn.Module:
    """A copy of ``net`` with every ``nn.Dropout`` of a Sequential replaced by a :class:`MaskDropout` of its p."""
    if not isinstance(net, nn.Sequential):
        return net
    return nn.Sequential(*[MaskDropout(m.p) if type(m) is nn.Dropout else copy.deepcopy(m) for m in net])


class FlattenNHWC(nn.Module):
    """Flatten (B, C, H, W) in (H, W, C) order: a view of a channels_last tensor, where ``nn.Flatten``
    copies it (and its backward hands the pooling layer a gradient in the other layout)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1).flatten(1)


@torch.no_grad()
def for_cpu(net: nn.Module, channels_last: bool) -> nn.Module:
    """A copy of ``net`` that computes the same function with the same parameters, rearranged for a CPU.

    For an ``nn.Sequential`` of the paper's layers (other models are returned as they are):

    - ``ReLU, MaxPool2d`` becomes ``MaxPool2d, ReLU``: max commutes with the monotone ReLU, and the
      ReLU then runs on a quarter of the elements (forward and backward);
    - ``nn.Dropout`` becomes :class:`ByteDropout` (the same keep probability and scaling);
    - with ``channels_last``, ``nn.Flatten`` after a convolution becomes :class:`FlattenNHWC`, and the
      next ``nn.Linear``'s input columns are permuted to match, so the outputs are unchanged.

    Outputs equal ``net``'s in eval mode up to float rounding (tested); in training mode the dropout
    masks come from a different draw of torch's generator.
    """
    if not isinstance(net, nn.Sequential):
        return net
    layers = [copy.deepcopy(m) for m in net]
    i = 0
    while i < len(layers) - 1:
        if isinstance(layers[i], nn.ReLU) and isinstance(layers[i + 1], nn.MaxPool2d):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
            i += 1
        i += 1
    channels = None
    for i, m in enumerate(layers):
        if isinstance(m, nn.Conv2d):
            channels = m.out_channels
        elif type(m) is nn.Dropout:
            layers[i] = ByteDropout(m.p)
        elif (isinstance(m, nn.Flatten) and (m.start_dim, m.end_dim) == (1, -1) and channels_last
              and channels is not None and i + 1 < len(layers) and isinstance(layers[i + 1], nn.Linear)):
            lin = i + 1  # a Flatten of a (square) conv feature map straight into a Linear: every paper ConvNet
            w = layers[lin].weight
            side = math.isqrt(w.shape[1] // channels)
            if channels * side * side != w.shape[1]:
                raise ValueError(f"for_cpu: a square (C, H, W) feature map before Flatten, got {w.shape[1]} "
                                 f"features for {channels} channels")
            layers[lin].weight = nn.Parameter(w.view(w.shape[0], channels, side, side).permute(0, 2, 3, 1)
                                              .reshape(w.shape[0], -1).contiguous())
            layers[i], channels = FlattenNHWC(), None
    return nn.Sequential(*layers)
