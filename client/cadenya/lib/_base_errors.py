"""The base of the SDK's exceptions and `ConfigurationError`, which the choice of the HTTP library (`_http`)
may raise before `_errors` can derive its connection errors from that library. Re-exported by `_errors`."""

__all__ = ["CadenyaError", "ConfigurationError"]


class CadenyaError(Exception):
    """Base of every exception this SDK raises on purpose."""


class ConfigurationError(CadenyaError, ValueError):
    """A local mistake found before any request is sent: a base URL without a scheme, an empty or malformed
    token, an httpx client without a base URL, a client whose httpx client you closed. Its message never
    repeats the value it refused, which may be a secret."""
