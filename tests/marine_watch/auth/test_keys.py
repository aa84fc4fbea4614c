"""Roles and keys: hashed keys, demo keys refused outside the demo, 401/403/429 with messages."""

import pytest

from marine_watch.auth.keys import KeyRing, Role, hash_key
from marine_watch.errors import ConfigError
from marine_watch.settings import DEMO_KEYS, Settings, load_settings
from tests.services import CONFIG_DIR

DUTY, TEAM, ADMIN = "k-duty", "k-team", "k-admin"


def keys() -> tuple[str, ...]:
    return (
        f"ops:duty_officer:{hash_key(DUTY)}",
        f"rescue:emergency_team:{hash_key(TEAM)}",
        f"root:admin:{hash_key(ADMIN)}",
    )


def test_keys_are_compared_by_hash_and_demo_keys_only_in_the_demo() -> None:
    """A configured key maps to its role; the published demo keys work only with environment=demo."""
    ring = KeyRing(Settings(config_dir=CONFIG_DIR, api_keys=keys()))
    principal = ring.lookup(DUTY)
    assert principal is not None
    assert principal.role == Role.DUTY_OFFICER
    assert ring.lookup("nope") is None
    assert ring.lookup(DEMO_KEYS["admin"]) is None
    demo = KeyRing(Settings(config_dir=CONFIG_DIR, environment="demo"))
    assert demo.lookup(DEMO_KEYS["duty_officer"]) is not None


def test_a_published_demo_key_is_refused_in_settings() -> None:
    """Configuring the hash of a demo key stops start-up, like the template's 'changethis'."""
    with pytest.raises(ConfigError, match="demo key"):
        load_settings(api_keys=(f"x:admin:{hash_key(DEMO_KEYS['admin'])}",))
    with pytest.raises(ConfigError, match="name:role:sha256hex"):
        load_settings(api_keys=("plain-secret",))
