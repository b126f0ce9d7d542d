"""Hand-written parts of the SDK: never touched by `make generate`.

Re-exported from the `cadenya` package; import them from there. (`cadenya.webhooks` is
`cadenya.lib.webhooks`, imported when first used.)
"""

from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CadenyaError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidPathParameterError,
    NotFoundError,
    PageLimitError,
    PageRepeatedError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    UnexpectedStatus,
    UnprocessableEntityError,
    request_id_of,
    unwrap,
)
from ._pagination import apaginate, paginate

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CadenyaError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "InvalidPathParameterError",
    "NotFoundError",
    "PageLimitError",
    "PageRepeatedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "UnexpectedStatus",
    "UnprocessableEntityError",
    "apaginate",
    "paginate",
    "request_id_of",
    "unwrap",
]
