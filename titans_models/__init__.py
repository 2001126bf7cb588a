"""Titans networks built on compiled memory rules: the neural memory layer, and MAC / MAG / MAL /
LMM language models with persistent memory tokens and streaming inference."""
from .config import TitansConfig
from .lm import MODELS, SlidingWindowLM, TitansLM, TitansLMM, TitansMAC, TitansMAG, TitansMAL
from .memory import NeuralMemory, NeuralMemoryState

__all__ = ["TitansConfig", "NeuralMemory", "NeuralMemoryState", "TitansLM", "TitansMAC", "TitansMAG",
           "TitansMAL", "TitansLMM", "SlidingWindowLM", "MODELS"]
