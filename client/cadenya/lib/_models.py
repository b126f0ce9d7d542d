"""What the generated models share at run time.

A model's `additional_properties` holds the JSON keys it does not know (a later API's fields). Nearly every
decoded object has none, so `from_dict` leaves that slot unset unless there are some, and the model's
`__getattr__` (called only for an attribute that is not set) makes it an empty dict on first use. The
field is still an attrs field and always reads as a writable dict of the object's own; decoding a page
just does not allocate ten thousand empty ones.
"""

from __future__ import annotations

import threading
from typing import Any

ADDITIONAL_PROPERTIES = "additional_properties"

# Two threads reading the unset field at once must get the same dict: a write to the other one would be lost.
_first_use = threading.RLock()


def additional_properties_on_first_use(model: object, name: str) -> Any:
    """`__getattr__` of the models: an `additional_properties` not set yet becomes an empty dict, once."""
    if name != ADDITIONAL_PROPERTIES:
        raise AttributeError(f"{type(model).__name__!r} object has no attribute {name!r}", name=name, obj=model)
    with _first_use:
        try:
            return object.__getattribute__(model, name)
        except AttributeError:
            value: dict[str, Any] = {}
            object.__setattr__(model, name, value)
            return value
