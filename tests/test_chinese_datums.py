"""GCJ-02 / BD-09: round trips, and agreement with an independent implementation (prcoords)."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest
from pyproj import Geod

from geoservice import chinese_datums as cd

GEOD = Geod(ellps="WGS84")
RNG = np.random.default_rng(20261123)
# A spread of positions over mainland China (and the plans' cities in particular).
LON = np.concatenate([RNG.uniform(75, 134, 2000), [121.45, 103.77, 104.07, 104.68, 105.44]])
LAT = np.concatenate([RNG.uniform(18, 53, 2000), [37.46, 29.55, 30.67, 31.47, 28.87]])


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Return geodesic distances in metres."""
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_round_trip_within_a_centimetre() -> None:
    back = cd.gcj02_to_wgs84(*cd.wgs84_to_gcj02(LON, LAT))
    assert _metres(LON, LAT, *back).max() < 0.01


def test_bd09_round_trip_within_a_centimetre() -> None:
    back = cd.bd09_to_wgs84(*cd.wgs84_to_bd09(LON, LAT))
    assert _metres(LON, LAT, *back).max() < 0.01


def test_gcj02_shift_is_hundreds_of_metres_in_yantai() -> None:
    shifted = cd.wgs84_to_gcj02(121.45, 37.46)
    assert 200 < _metres(121.45, 37.46, *shifted) < 1000


@pytest.mark.parametrize("i", range(0, 2005, 97))
def test_forward_transforms_agree_with_prcoords(i: int) -> None:
    gcj = prcoords.wgs_gcj((LAT[i], LON[i]))
    ours = cd.wgs84_to_gcj02(LON[i], LAT[i])
    assert _metres(gcj.lon, gcj.lat, *ours) < 0.001
    bd = prcoords.wgs_bd((LAT[i], LON[i]))
    assert _metres(bd.lon, bd.lat, *cd.wgs84_to_bd09(LON[i], LAT[i])) < 0.001


@pytest.mark.parametrize("i", range(0, 2005, 97))
def test_inverse_transforms_agree_with_prcoords(i: int) -> None:
    gcj_lon, gcj_lat = cd.wgs84_to_gcj02(LON[i], LAT[i])
    theirs = prcoords.gcj_wgs_bored((float(gcj_lat), float(gcj_lon)))
    assert _metres(theirs.lon, theirs.lat, *cd.gcj02_to_wgs84(gcj_lon, gcj_lat)) < 0.01


def test_positions_outside_china_are_not_shifted() -> None:
    lon, lat = np.array([2.35, -74.0, 139.7]), np.array([48.85, 40.7, 35.7])  # Paris, NYC, Tokyo
    for forward in (cd.wgs84_to_gcj02, cd.gcj02_to_wgs84):
        out = forward(lon, lat)
        np.testing.assert_array_equal(out[0], lon)
        np.testing.assert_array_equal(out[1], lat)


def test_transform_geometry_moves_every_vertex() -> None:
    import shapely

    poly = shapely.box(121.3, 37.4, 121.5, 37.6)
    moved = cd.transform_geometry(poly, cd.wgs84_to_gcj02)
    src, dst = shapely.get_coordinates(poly), shapely.get_coordinates(moved)
    expected = np.column_stack(cd.wgs84_to_gcj02(src[:, 0], src[:, 1]))
    np.testing.assert_allclose(dst, expected, rtol=0, atol=1e-12)
