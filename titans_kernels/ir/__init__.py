"""Compiler IR: spec -> typed plan (`lower`), plus the elementwise op tables."""
from .ops import ACTIVATIONS, LOSSES, Activation, Loss, step_scale
from .plan import GateMode, GatesIR, LayerIR, MemoryIR, ReadMode, lower

__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "Loss", "step_scale", "GateMode", "GatesIR", "LayerIR",
           "MemoryIR", "ReadMode", "lower"]
