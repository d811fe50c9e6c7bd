"""NiBabel's array-proxy API validators (test_proxy_api.py) on voxelio's ArrayProxy."""

from __future__ import annotations

import os

import nibabel.tests.test_proxy_api as nib

from voxelio.proxy import ArrayProxy
from voxelio_analyze.header import AnalyzeHeader
from voxelio_mgh.header import MGHHeader
from voxelio_nifti1.header import Nifti1Header


class TestAnalyzeProxyAPI(nib.TestAnalyzeProxyAPI):
    proxy_class = ArrayProxy
    header_class = AnalyzeHeader


#: NiBabel's full product of cases (run by ``make nibabel-api-full``)
FULL = os.environ.get("VOXELIO_NIBABEL_API_FULL") == "1"


class TestNifti1ProxyAPI(nib.TestNifti1ProxyAPI):
    proxy_class = ArrayProxy
    header_class = Nifti1Header
    if not FULL:
        # NiBabel runs 2016 proxies per check here (about a minute); make test
        # keeps every dtype, offset, slope and intercept for one shape
        shapes = ((2, 3, 4),)


class TestMGHProxyAPI(nib.TestMGHAPI):
    proxy_class = ArrayProxy
    header_class = MGHHeader
