"""Typed access to the services that features register in ``Services.extras``."""

from typing import TypeVar

from marine_watch.api.deps import ServicesDep

T = TypeVar("T")


def extra(services: ServicesDep, key: str, cls: type[T]) -> T:
    """The registered service ``key``, checked to be a ``cls``."""
    found = services.extras[key]
    assert isinstance(found, cls), f"extras[{key!r}] is not a {cls.__name__}"
    return found
