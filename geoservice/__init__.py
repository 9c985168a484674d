"""geoservice: Chinese industrial plans as cited GeoPandas layers, an OGC API and Folium maps.

    import geoservice
    atlas = geoservice.open()          # the packaged data, or geoservice.open("path/to/data")
"""

from __future__ import annotations

__version__ = "0.1.0"  # the one version string: pyproject (hatch), the API and `geoservice --version`

__all__ = ["__version__", "open"]


def open(data_dir=None):  # noqa: A001 - the API's entry point, as in geoservice.open()
    """Load the plans' data (default: the data shipped with the package) into an Atlas of
    GeoDataFrames; see geoservice.atlas.Atlas and docs/python.md."""
    from geoservice.atlas import open_atlas  # lazy: `import geoservice` stays light for the CLI

    return open_atlas(data_dir)
