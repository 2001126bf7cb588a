"""Error types. Each carries one line that names the problem and the fix."""


class TitansError(Exception):
    """Base class: a user-facing error whose message is a single line."""


class SpecError(TitansError, ValueError):
    """A memory spec (YAML) is malformed, has an unknown key, or a value out of range."""


class InputError(TitansError, ValueError):
    """A call received tensors of the wrong shape, dtype or device."""


class BackendError(TitansError, RuntimeError):
    """A backend is unknown or not usable on this machine."""
