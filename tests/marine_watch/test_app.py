"""The service's start-up and shutdown (marine_watch/app.py)."""

from __future__ import annotations

import gc

from tests.helpers import serve


async def test_start_up_freezes_its_heap_and_shutdown_unfreezes_it(
    mosquitto, make_settings
) -> None:
    """What start-up built is kept out of every later full collection, and given back at the end."""
    gc.unfreeze()
    async with serve(make_settings(mosquitto)):
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # config, catalogue, modules: none walked by a full collection
        assert len(gc.get_objects(2)) < frozen
    assert gc.get_freeze_count() == 0
