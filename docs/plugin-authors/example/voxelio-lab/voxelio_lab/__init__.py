"""voxelio plugin for the LAB format (entry module: ``voxelio_lab.plugin``)."""
