"""What make_golden_conv.py (2-D) and make_golden_conv1d.py (1-D) share: one
convolution layer case with PyTorch's own init.  Imported by them; run
nothing here."""

import torch

from make_golden import leaf


def layer_case(classes, kind, x_shape, in_c, out_c, k, stride, padding, output_padding, bias,
               size=lambda v: v):
    """classes maps kind (the op's name, as the spec calls it) to the module
    class; size writes a size argument as the golden file holds it.  The
    case holds the input, the parameters, a fixed upstream gradient g (the
    loss is (y * g).sum()), the output and the gradients of the input and of
    every parameter.  Draws from torch's generator in this order: the
    module's init, x, g."""
    if kind.startswith("conv_transpose"):
        m = classes[kind](in_c, out_c, k, stride=stride, padding=padding,
                          output_padding=output_padding, bias=bias)
    else:
        m = classes[kind](in_c, out_c, k, stride=stride, padding=padding, bias=bias)
    x = leaf(torch.randn(*x_shape))
    y = m(x)
    g = torch.randn(*y.shape)
    (y * g).sum().backward()
    case = {
        "kind": kind, "in_channels": in_c, "out_channels": out_c,
        "kernel_size": size(k), "stride": size(stride), "padding": size(padding),
        "output_padding": size(output_padding), "bias": bias,
        "x": x, "weight": m.weight, "g": g, "y": y,
        "grad_x": x.grad, "grad_weight": m.weight.grad,
    }
    if bias:
        case["b"] = m.bias
        case["grad_b"] = m.bias.grad
    return case
