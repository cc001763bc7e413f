"""Every architecture builds for its dataset's input and returns logits of the right shape."""

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
    assert models.has_batchnorm(models.build("resnet18", 3, 32, 10))


def test_unknown_model():
    with pytest.raises(ValueError, match="model must be one of"):
        models.build("vgg", 1, 28, 10)
