"""Regions: which stations, zones, dike segments and shelters a regional risk node evaluates."""

import pytest

from marine_watch.coast import load_catalogue
from marine_watch.risk.regions import all_regions, regions_of, restrict
from sensors.catalogue import Catalogue
from tests.helpers import CONFIG


@pytest.fixture(scope="module")
def coast() -> Catalogue:
    return load_catalogue(CONFIG)


def test_every_station_zone_and_segment_has_its_region(coast: Catalogue) -> None:
    regions = regions_of(coast)
    ids = [
        *(s.id for s in coast.stations),
        *(z.id for z in coast.zones),
        *(d.id for d in coast.segments),
    ]
    assert set(regions) == set(ids)
    assert all(regions[s.id] == s.region for s in coast.stations)
    assert all(regions[z.id] == z.region for z in coast.zones)
    assert all(regions[d.id] == d.region for d in coast.segments)
    assert all_regions(coast) == {"pinghu", "haiyan"}


def test_a_region_keeps_its_own_members_and_their_shelters_only(coast: Catalogue) -> None:
    part = restrict(coast, ("haiyan",))
    assert {s.region for s in part.stations} == {"haiyan"}
    assert {z.region for z in part.zones} == {"haiyan"}
    assert part.segments == ()  # the sample Haiyan stretch has no dike segment
    assert [s.id for s in part.stations] == ["mast-xitangqiao"]
    zones = {z.id for z in part.zones}
    assert part.shelters
    assert all(s.zone in zones for s in part.shelters)
    assert len(part.shelters) < len(coast.shelters)
    assert part.rules == coast.rules  # what is not per region is kept whole


def test_the_regions_together_are_the_whole_coast(coast: Catalogue) -> None:
    parts = [restrict(coast, (r,)) for r in sorted(all_regions(coast))]
    assert sorted(s.id for p in parts for s in p.stations) == sorted(s.id for s in coast.stations)
    assert sorted(z.id for p in parts for z in p.zones) == sorted(z.id for z in coast.zones)
    assert sorted(d.id for p in parts for d in p.segments) == sorted(d.id for d in coast.segments)
    assert sorted(s.id for p in parts for s in p.shelters) == sorted(s.id for s in coast.shelters)
    both = restrict(coast, ("pinghu", "haiyan"))
    assert both.stations == coast.stations
    assert both.zones == coast.zones


def test_an_unknown_region_is_named_with_the_known_ones(coast: Catalogue) -> None:
    with pytest.raises(ValueError, match="atlantis") as err:
        restrict(coast, ("pinghu", "atlantis"))
    assert "['haiyan', 'pinghu']" in str(err.value)
