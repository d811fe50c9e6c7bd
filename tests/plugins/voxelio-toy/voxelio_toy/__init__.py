"""voxelio-toy: a minimal test-only format plugin.

``voxelio_toy.plugin`` is the entry module (cheap: no numpy, no reader
code); ``voxelio_toy.image`` holds the format itself and is imported only
when a ``.toy`` file is read or written.
"""
