"""torch_classes.py: torch classes for aerun classes that replace forward,
for `aerun_torch.py --class NAME=torch_classes:Class` (tests/interop_spec.lua).

Residual mirrors the Lua class of the same name in the spec: made from the
same constructor arguments (d), with the same state_dict keys (fc.weight,
fc.bias), computing x + tanh(fc(x)).
"""
import torch
from torch import nn


class Residual(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, x):
        return x + torch.tanh(self.fc(x))
