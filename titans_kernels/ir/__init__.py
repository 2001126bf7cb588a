"""Compiler IR: spec -> typed plan (`lower`), plus the elementwise op tables."""
from .ops import ACTIVATIONS, LOSSES, Activation, Loss
from .plan import GateMode, GatesIR, LayerIR, MemoryIR, ReadMode, lower

__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "Loss", "GateMode", "GatesIR", "LayerIR",
           "MemoryIR", "ReadMode", "lower"]
