"""The paper's architectures. The paper gives no widths; ours, all config fields:

- ``perceptron``: one linear layer (softmax regression), input pixels -> classes.
- ``mlp1``, ``mlp2``, ``mlp4``: 1, 2 or 4 hidden ReLU layers of ``width`` units (512).
- ``convnet2``: Conv 32 3x3, max-pool 2, Dense classes (Sec 5's "simple 2-layer ConvNet").
- ``convnet4``: Keras ``mnist_cnn.py``: Conv 32 3x3, Conv 64 3x3, max-pool, dropout 0.25,
  Dense 128, dropout 0.5, Dense classes (our reading of "4-layer ConvNet").
- ``convnet6``: Keras ``cifar10_cnn.py``: 2x(Conv 32), pool, 2x(Conv 64), pool, Dense 512,
  Dense classes, with its dropouts (our reading of "6-layer ConvNet").
- ``resnet18``, ``resnet101``: torchvision's, for 32x32 inputs (3x3 stem, no max-pool)
  when ``side <= 64``; the ImageNet stem otherwise.

Every model takes float images (B, C, H, W), already normalised, and returns
logits (B, classes).
"""

from __future__ import annotations

import torch
from torch import nn

MODELS = ("perceptron", "mlp1", "mlp2", "mlp4", "convnet2", "convnet4", "convnet6", "resnet18", "resnet101")


def _conv_out(side: int, k: int = 3) -> int:
    return side - k + 1


def _mlp(in_dim: int, classes: int, hidden: int, width: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    d = in_dim
    for _ in range(hidden):
        layers += [nn.Linear(d, width), nn.ReLU()]
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


def build(name: str, channels: int, side: int, classes: int, width: int = 512) -> nn.Module:
    """A fresh model (random init from torch's global RNG; seed it first).

    Parameters: ``channels``, ``side`` of the square input images; ``classes``;
    ``width`` of the MLP hidden layers.
    """
    if name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {name!r}")
    d = channels * side * side
    if name == "perceptron":
        return _mlp(d, classes, 0, width)
    if name.startswith("mlp"):
        return _mlp(d, classes, int(name[3:]), width)
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
        s = side // 4
        return nn.Sequential(nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1),
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
