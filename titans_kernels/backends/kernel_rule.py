"""What the generated-kernel backends (triton, tilelang) share: their options and the choice of
launch config per call (given, else the tuning database's record for this GPU and shape, else a
per-IR default). Nothing is tuned during a call."""
from __future__ import annotations

import torch

from ..errors import InputError
from ..tuning.lookup import lookup
from .base import CompiledRule
from .launch_config import LaunchConfig


class KernelRule(CompiledRule):
    def __init__(self, ir, config: LaunchConfig | None = None, checkpoint_group: int | None = None,
                 tuned_for: str | None = None, tuning_dir: str | None = None):
        super().__init__(ir)
        self.config = self._checked_config(config)
        self.checkpoint_group = checkpoint_group
        self.tuned_for = tuned_for
        self.tuning_dir = tuning_dir
        self.last_config: LaunchConfig | None = None
        self.last_config_source = ""

    @staticmethod
    def _checked_config(config) -> LaunchConfig | None:
        """The config as a LaunchConfig (a dict of its fields is accepted), checked when the
        rule is compiled rather than at its first call."""
        if config is None or isinstance(config, LaunchConfig):
            return config
        if isinstance(config, dict):
            unknown = sorted(set(config) - set(LaunchConfig.__dataclass_fields__))
            if unknown:
                raise InputError(f"config: unknown field(s) {', '.join(map(str, unknown))}; fields: "
                                 f"{', '.join(LaunchConfig.__dataclass_fields__)}")
            return LaunchConfig(**config)
        raise InputError(f"config: expected a LaunchConfig (TritonConfig) or a dict of its fields, got "
                         f"{type(config).__name__}")

    def default_config(self) -> LaunchConfig:
        raise NotImplementedError

    def _config_for(self, q, D: int, chunk_size: int) -> LaunchConfig:
        """The launch config of this call; `last_config` / `last_config_source` say which and why."""
        if q.dtype == torch.float64:
            raise InputError(f"backend '{self.backend}' computes in float32 (its kernels have no float64 path); "
                             f"pass float32, bfloat16 or float16 inputs, or use backend='torch' for float64")
        if self.config is not None:
            cfg, source = self.config, "given"
        else:
            cfg, source = lookup(self.ir, q, D, chunk_size, self.tuned_for, self.tuning_dir, backend=self.backend,
                                 default=self.default_config())
        self.last_config, self.last_config_source = cfg, source
        return cfg
