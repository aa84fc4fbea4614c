"""The public surface of risk_models is pinned: changing it is a deliberate act."""

import risk_models


def test_exported_members() -> None:
    """Everything in __all__ exists, and __all__ is exactly the documented API."""
    assert risk_models.__all__ == [
        "COLOURS",
        "UNKNOWN",
        "FloatArray",
        "Hazard",
        "IntArray",
        "Level",
        "Thresholds",
        "levels",
        "overtopping",
        "redtide",
        "surge",
        "tide",
        "waves",
        "wind",
    ]
    assert all(hasattr(risk_models, name) for name in risk_models.__all__)
