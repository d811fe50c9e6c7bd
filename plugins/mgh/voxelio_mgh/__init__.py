"""voxelio-mgh: the FreeSurfer MGH/MGZ format for voxelio.

``voxelio_mgh.plugin`` is the entry module (cheap: no numpy, no reader
code). The format lives in ``voxelio_mgh.header`` (the 90-byte header and
the 20-byte scan-parameter footer), ``voxelio_mgh.tags`` (FreeSurfer's
tagged records after the footer) and ``voxelio_mgh.image`` (reading and
writing). Import the classes from there, or as ``voxelio.MGHImage``.
"""

__version__ = "0.1.0"
