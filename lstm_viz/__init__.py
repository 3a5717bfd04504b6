"""lstm_viz: see every gate of a trained LSTM (or GRU / RNN), step by step.

import torch, lstm_viz
lstm = torch.nn.LSTM(input_size=3, hidden_size=8, num_layers=2)
tr = lstm_viz.trace(lstm, torch.randn(50, 3))
tr.gate("forget", layer=0)            # (50, 8) numpy
lstm_viz.gate_terms(tr, lstm, "forget", unit=3, step=10)   # why it took that value, term by term
model = lstm_viz.load_model("my_model.keras")  # or a PyTorch state_dict; print(model.summary)
"""

from lstm_viz.analysis import NullBand, retention, saliency, saturation, unit_null, unit_search
from lstm_viz.corpus import CorpusTrace, corpus_trace
from lstm_viz.explorer import show, trace_html
from lstm_viz.gate_terms import GateDrivers, GateTerms, gate_drivers, gate_terms
from lstm_viz.interventions import Clamp
from lstm_viz.load import load_model
from lstm_viz.loaded import ChoiceNeeded, LoadedModel
from lstm_viz.matching import match, propose_units
from lstm_viz.models import load_checkpoint, load_shipped, shipped_models
from lstm_viz.trace import trace
from lstm_viz.trace_model import trace_model
from lstm_viz.trace_result import LSTMTrace

__all__ = [
    "ChoiceNeeded",
    "Clamp",
    "CorpusTrace",
    "GateDrivers",
    "GateTerms",
    "LoadedModel",
    "LSTMTrace",
    "NullBand",
    "corpus_trace",
    "gate_drivers",
    "gate_terms",
    "load_checkpoint",
    "load_model",
    "load_shipped",
    "match",
    "propose_units",
    "retention",
    "saliency",
    "saturation",
    "shipped_models",
    "show",
    "trace",
    "trace_html",
    "trace_model",
    "unit_null",
    "unit_search",
]
