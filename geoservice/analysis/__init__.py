"""Analyses over the catalog: plain functions, GeoDataFrames or small records in and out.

The API, the HTML pages, the maps, the CLI and the Python API call these; none of them computes
a domain answer itself (see ../shared/DESIGN.md, "Analyses are a library, not handlers").
"""
