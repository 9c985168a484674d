"""GCJ-02 and BD-09, the obfuscated datums of Chinese web maps, vectorised with numpy.

GCJ-02 (AMap/高德, Tencent, Google China) shifts WGS84 positions by a smooth, undocumented but
widely published function; BD-09 (Baidu) is a further twist of GCJ-02. Neither has a closed-form
inverse, so the inverses here iterate the forward transform to convergence (a fixed point:
the shift changes by less than 1e-6 per metre, so each step gains ~6 digits) and reach
1e-12 degrees (~0.1 µm) in 2-3 steps. Positions outside mainland China are left unshifted,
as the Chinese map providers do.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 algorithm
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-12
_MAX_ITERATIONS = 30

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Return lon/lat as float64 arrays of one shape."""
    return np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return where the GCJ-02 shift applies (the providers' rectangular test)."""
    x, y = _arrays(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _shift(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 positions."""
    x, y = lon - 105.0, lat - 35.0
    sx = np.sqrt(np.abs(x))
    waves = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlat += waves * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    dlon += waves * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Transform WGS84 lon/lat to GCJ-02."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _shift(x, y)
    return x + dlon, y + dlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Transform GCJ-02 lon/lat to BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Solve forward(p) = target for p by fixed-point iteration, to 1e-12 degrees."""
    tx, ty = _arrays(lon, lat)
    x, y = tx.copy(), ty.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _TOLERANCE_DEG) and np.all(np.abs(ey) < _TOLERANCE_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Transform GCJ-02 lon/lat to WGS84 (exact iterative inverse)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Transform BD-09 lon/lat to GCJ-02 (exact iterative inverse)."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Transform WGS84 lon/lat to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Transform BD-09 lon/lat to WGS84 (exact iterative inverse)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


TO_WGS84 = {"WGS84": None, "GCJ-02": gcj02_to_wgs84, "BD-09": bd09_to_wgs84}
FROM_WGS84 = {"WGS84": None, "GCJ-02": wgs84_to_gcj02, "BD-09": wgs84_to_bd09}


def transform_geometry(geometry, func):
    """Apply a lon/lat transform to every vertex of shapely geometries (vectorised)."""
    import shapely

    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, apply)
