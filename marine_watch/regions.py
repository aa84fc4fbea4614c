"""Regions: which risk node evaluates which stations, zones and dike segments.

Every station, zone and dike segment carries a region (``region`` in config/; ``default`` when
absent). A risk node given ``MARINE_WATCH_REGIONS`` evaluates only those regions' members, so
evaluation scales by adding risk nodes; an API node serves every region it hears on the broker.
"""

from __future__ import annotations

from sensors.catalogue import Catalogue


def regions_of(catalogue: Catalogue) -> dict[str, str]:
    """Region of every station, zone and dike segment, by id."""
    out = {s.id: s.region for s in catalogue.stations}
    out.update({z.id: z.region for z in catalogue.zones})
    out.update({d.id: d.region for d in catalogue.segments})
    return out


def all_regions(catalogue: Catalogue) -> set[str]:
    return set(regions_of(catalogue).values())
