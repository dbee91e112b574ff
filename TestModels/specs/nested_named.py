# A small CNN with named parts, as torchvision-style code writes it.
import torch
import torch.nn as nn
from collections import OrderedDict

hidden = 128
classes = 10

features = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1),  # 16 x 28 x 28
    nn.BatchNorm2d(16),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(kernel_size=2),  # 16 x 14 x 14
)

model = nn.Sequential(OrderedDict([
    ("features", features),
    ("pool", nn.AdaptiveAvgPool2d((7, 7))),
    ("flatten", nn.Flatten()),
    ("classifier", nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(16 * 7 * 7, hidden)),
        ("act", torch.nn.GELU()),
        ("drop", nn.Dropout(p=0.25)),
        ("fc2", nn.Linear(hidden, classes, bias=False)),
    ]))),
]))
