"""Folium map pages of the plans: one per plan plus an overview, served live and exported."""
