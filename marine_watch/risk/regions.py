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
    """Every region of the catalogue."""
    return set(regions_of(catalogue).values())


def restrict(catalogue: Catalogue, regions: tuple[str, ...]) -> Catalogue:
    """The part of the coast a regional risk node evaluates (the catalogue forbids cross-region
    references, so the part is whole); ValueError naming an unknown region."""
    unknown = set(regions) - all_regions(catalogue)
    if unknown:
        msg = f"unknown region(s) {sorted(unknown)}; config/ has {sorted(all_regions(catalogue))}"
        raise ValueError(msg)
    zones = tuple(z for z in catalogue.zones if z.region in regions)
    kept = {z.id for z in zones}
    return catalogue.model_copy(
        update={
            "stations": tuple(s for s in catalogue.stations if s.region in regions),
            "zones": zones,
            "segments": tuple(d for d in catalogue.segments if d.region in regions),
            "shelters": tuple(s for s in catalogue.shelters if s.zone in kept),
        }
    )
