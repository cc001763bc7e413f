"""Every architecture builds for its dataset's input and returns logits of the right shape."""

import math

import pytest
import torch

from nlcore import models


@pytest.mark.parametrize("name", models.MODELS)
@pytest.mark.parametrize("channels,side,classes", [(1, 28, 10), (3, 32, 10)])
def test_forward_shapes(name, channels, side, classes):
    if name == "resnet101" and channels == 1:
        pytest.skip("ResNet-101 is a CIFAR model in the paper")
    net = models.build(name, channels, side, classes)
    out = net(torch.randn(2, channels, side, side))
    assert out.shape == (2, classes) and torch.isfinite(out).all()


def test_architecture_choices_are_as_documented():
    assert models.count_params(models.build("perceptron", 1, 28, 10)) == 784 * 10 + 10
    mlp2 = models.build("mlp2", 1, 28, 10, width=512)
    assert models.count_params(mlp2) == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    conv4 = models.build("convnet4", 1, 28, 10)  # Keras mnist_cnn: 1,199,882 parameters
    assert models.count_params(conv4) == 1199882
    assert sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in conv4.modules()) == 4
    conv6 = models.build("convnet6", 3, 32, 10)
    assert sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in conv6.modules()) == 6
    keras6 = models.build("convnet6", 3, 32, 10, conv_padding="keras")  # Keras cifar10_cnn: 1,250,858 parameters
    assert models.count_params(keras6) == 1250858
    assert keras6(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert models.count_params(conv6) == 1250858 - 2304 * 512 + 4096 * 512  # 64x8x8 into the Dense layer
    with pytest.raises(ValueError, match="conv_padding must be one of"):
        models.build("convnet6", 3, 32, 10, conv_padding="valid")
    assert models.has_batchnorm(models.build("resnet18", 3, 32, 10))


def test_unknown_model():
    with pytest.raises(ValueError, match="model must be one of"):
        models.build("vgg", 1, 28, 10)


# ----------------------------------------------------------------------------- for_cpu: same function, faster


@pytest.mark.parametrize("name,channels,side", [("convnet2", 1, 28), ("convnet4", 1, 28), ("convnet6", 3, 32),
                                                ("mlp2", 1, 28)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_for_cpu_computes_the_same_function(name, channels, side, channels_last):
    torch.manual_seed(0)
    net = models.build(name, channels, side, 10)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    fast = models.for_cpu(net, channels_last).to(memory_format=fmt)
    assert models.count_params(fast) == models.count_params(net)
    x = torch.randn(8, channels, side, side)
    net.eval(), fast.eval()
    out, out_fast = net(x), fast(x.contiguous(memory_format=fmt))
    torch.testing.assert_close(out_fast, out, rtol=1e-5, atol=1e-5)
    # the same gradients for the same parameters (eval mode: no dropout), the first layer's included
    out.square().sum().backward()
    out_fast.square().sum().backward()
    first, first_fast = next(net.parameters()), next(fast.parameters())
    torch.testing.assert_close(first_fast.grad, first.grad, rtol=1e-4, atol=1e-5)
    assert not any(type(m) is torch.nn.Dropout for m in fast.modules())  # every dropout is a ByteDropout
    resnet = models.build("resnet18", 3, 32, 10)
    assert models.for_cpu(resnet, True) is resnet  # not a Sequential of the paper's layers: unchanged


@pytest.mark.parametrize("p", [0.25, 0.5])
@pytest.mark.parametrize("channels_last", [False, True])
def test_byte_dropout_keeps_each_element_with_probability_1_minus_p(p, channels_last):
    """P(keep) = 1 - p, kept values scaled by exactly 1/(1-p), and neighbours independent (binomial bounds)."""
    drop = models.ByteDropout(p).train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = (torch.rand(64, 16, 24, 24) + 0.5).contiguous(memory_format=fmt)
    out = drop(x)
    assert out.is_contiguous(memory_format=fmt)
    kept = out != 0
    n = kept.numel()
    sd = (p * (1 - p) / n) ** 0.5
    assert abs(kept.float().mean().item() - (1 - p)) < 6 * sd
    torch.testing.assert_close(out[kept], x[kept] * (1 / (1 - p)), rtol=0, atol=0)
    for dim in (1, 2, 3):  # neighbours (channel, row, column): P(both kept) = (1-p)^2
        a, b = kept.narrow(dim, 0, kept.shape[dim] - 1), kept.narrow(dim, 1, kept.shape[dim] - 1)
        both = (a & b).float().mean().item()
        assert abs(both - (1 - p) ** 2) < 6 * ((1 - p) ** 2 * (1 - (1 - p) ** 2) / a.numel()) ** 0.5
    per_channel = kept.float().mean((0, 2, 3))  # no channel favoured (the mask follows x's layout)
    assert (per_channel - (1 - p)).abs().max() < 6 * (p * (1 - p) / (n / 16)) ** 0.5


def test_byte_dropout_is_seeded_and_falls_back_where_bytes_cannot_say_p():
    x = torch.rand(4, 8, 6, 6) + 0.5
    drop = models.ByteDropout(0.25).train()
    torch.manual_seed(3)
    a = drop(x)
    torch.manual_seed(3)
    assert torch.equal(drop(x), a)  # a draw of torch's generator: reproducible from the seed
    assert torch.equal(drop.eval()(x), x)
    assert torch.equal(models.ByteDropout(1.0).train()(x), torch.zeros_like(x))  # p = 1: nn.Dropout's zeros
    assert torch.equal(models.ByteDropout(0.0).train()(x), x)


@pytest.mark.parametrize("p", [0.2, 0.3])
def test_where_bytes_cannot_say_p_32_bit_words_do(p):
    """256 p not an integer (the MLPs' 0.2): an element is kept when its 32-bit word is >= round(2^32 p)."""
    torch.manual_seed(0)
    keep = models.keep_mask((400, 1000), (1000, 1), p, "cpu")
    n = keep.numel()
    assert abs(keep.float().mean().item() - (1 - p)) < 6 * (p * (1 - p) / n) ** 0.5
    a, b = keep[:, :-1], keep[:, 1:]  # neighbours independent
    assert abs((a & b).float().mean().item() - (1 - p) ** 2) < 6 * ((1 - p) ** 2 / a.numel()) ** 0.5
    out = models.ByteDropout(p).train()(torch.ones(64, 512))
    assert set(out.unique().tolist()) <= {0.0, torch.tensor(1 / (1 - p)).item()}  # float32's 1 / (1 - p)


@pytest.mark.parametrize("name", ["perceptron", "mlp2", "convnet4", "convnet6"])
def test_keras_initialisation_is_glorot_uniform_with_zero_biases(name):
    """Keras 2's default: W ~ U(-b, b), b = sqrt(6 / (fan_in + fan_out)) (times the kernel area for a
    convolution), every bias 0; torch's own init leaves biases non-zero."""
    channels, side = (3, 32) if name == "convnet6" else (1, 28)
    torch.manual_seed(0)
    net = models.build(name, channels, side, 10, init="keras")
    layers = [m for m in net.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    for m in layers:
        area = m.weight[0, 0].numel()
        fan_in, fan_out = m.weight.shape[1] * area, m.weight.shape[0] * area
        b = math.sqrt(6 / (fan_in + fan_out))
        w = m.weight.detach()
        assert w.abs().max() <= b and w.abs().max() > 0.95 * b  # fills the interval, not beyond it
        assert abs(w.std().item() - b / math.sqrt(3)) < 0.1 * b / math.sqrt(3)  # the uniform's std
        assert (m.bias == 0).all()
    torch.manual_seed(0)
    assert any((m.bias != 0).any() for m in models.build(name, channels, side, 10, init="torch").modules()
               if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    with pytest.raises(ValueError, match="init must be one of"):
        models.build(name, channels, side, 10, init="he")


def test_mlp_dropout_follows_each_hidden_layer_as_in_keras_mnist_mlp():
    mlp2 = models.build("mlp2", 1, 28, 10, mlp_dropout=0.2)
    kinds = [type(m).__name__ for m in mlp2]
    assert kinds == ["Flatten", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert all(m.p == 0.2 for m in mlp2 if isinstance(m, torch.nn.Dropout))
    assert not any(isinstance(m, torch.nn.Dropout) for m in models.build("mlp2", 1, 28, 10))
    assert not any(isinstance(m, torch.nn.Dropout) for m in models.build("perceptron", 1, 28, 10, mlp_dropout=0.2))
