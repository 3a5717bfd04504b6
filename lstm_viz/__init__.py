"""lstm_viz: see every gate of a trained LSTM (or GRU / RNN), step by step.

import torch, lstm_viz
lstm = torch.nn.LSTM(input_size=3, hidden_size=8, num_layers=2)
tr = lstm_viz.trace(lstm, torch.randn(50, 3))
tr.gate("forget", layer=0)            # (50, 8) numpy
"""

from lstm_viz.analysis import retention, saliency, saturation, unit_search
from lstm_viz.explorer import show, trace_html
from lstm_viz.interventions import Clamp
from lstm_viz.models import load_checkpoint, load_shipped, shipped_models
from lstm_viz.trace import trace
from lstm_viz.trace_model import trace_model
from lstm_viz.trace_result import LSTMTrace

__all__ = [
    "Clamp",
    "LSTMTrace",
    "load_checkpoint",
    "load_shipped",
    "retention",
    "saliency",
    "saturation",
    "shipped_models",
    "show",
    "trace",
    "trace_html",
    "trace_model",
    "unit_search",
]
