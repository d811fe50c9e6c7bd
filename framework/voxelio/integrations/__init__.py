"""Bridges to other libraries, each imported only when used.

:mod:`voxelio.integrations.nibabel` turns voxelio images into NiBabel images
and back (the optional extra ``voxelio[nibabel]``).
"""
