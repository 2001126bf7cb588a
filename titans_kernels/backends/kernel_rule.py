"""What the generated-kernel backends (triton, tilelang) share: their options and the choice of
launch config per call (given, else the tuning database's record for this GPU and shape, else a
per-IR default). Nothing is tuned during a call."""
from __future__ import annotations

from ..tuning.lookup import lookup
from .base import CompiledRule
from .launch_config import LaunchConfig


class KernelRule(CompiledRule):
    def __init__(self, ir, config: LaunchConfig | None = None, checkpoint_group: int | None = None,
                 tuned_for: str | None = None, tuning_dir: str | None = None):
        super().__init__(ir)
        self.config = config
        self.checkpoint_group = checkpoint_group
        self.tuned_for = tuned_for
        self.tuning_dir = tuning_dir
        self.last_config: LaunchConfig | None = None
        self.last_config_source = ""

    def default_config(self) -> LaunchConfig:
        raise NotImplementedError

    def _config_for(self, q, D: int, b: int) -> LaunchConfig:
        """The launch config of this call; `last_config` / `last_config_source` say which and why."""
        if self.config is not None:
            cfg, source = self.config, "given"
        else:
            cfg, source = lookup(self.ir, q, D, b, self.tuned_for, self.tuning_dir, backend=self.backend,
                                 default=self.default_config())
        self.last_config, self.last_config_source = cfg, source
        return cfg
