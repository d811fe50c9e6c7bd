"""Scaling choice and conversion to stored values."""

from __future__ import annotations

import io

import numpy as np
import pytest

from voxelio.errors import WriterError
from voxelio.proxy import ArrayProxy
from voxelio.writing import choose_scaling, plan_storage, to_stored, write_array


def test_fitting_values_need_no_scaling():
    assert choose_scaling(np.arange(10, dtype="i4"), "i2") == (1.0, 0.0)
    assert choose_scaling(np.array([1.0, 2.0, -3.0]), "i2") == (1.0, 0.0)
    assert choose_scaling(np.array([0.5, 2.25]), "f4") == (1.0, 0.0)


def test_float_to_int_uses_the_whole_range_and_round_trips():
    data = np.linspace(-1.5, 2.75, 1000)
    slope, inter = choose_scaling(data, "i2")
    assert slope != 1.0
    assert np.float32(slope) == slope and np.float32(inter) == inter
    stored = to_stored(data, np.dtype("i2"), slope, inter)
    back = stored * slope + inter
    assert np.abs(back - data).max() <= slope / 2 + 1e-12
    assert stored.min() >= -32768 and stored.max() <= 32767


def test_slope_only_formats():
    data = np.linspace(0, 1000.5, 50)
    slope, inter = choose_scaling(data, "u1", can_inter=False)
    assert inter == 0.0
    assert np.abs(to_stored(data, np.dtype("u1"), slope) * slope - data).max() <= slope / 2 + 1e-9
    with pytest.raises(WriterError, match="intercept"):
        choose_scaling(np.array([-5.0, 3.5]), "u1", can_inter=False)


def test_no_scaling_allowed_raises_instead_of_clipping():
    with pytest.raises(WriterError, match="does not fit"):
        choose_scaling(np.array([0.0, 70000.0]), "i2", can_slope=False)
    with pytest.raises(WriterError):
        to_stored(np.array([70000], "i4"), np.dtype("i2"))


def test_fractions_without_scaling_are_named_as_such_not_as_a_range_problem():
    # [10, 442] fits int16: what int16 cannot hold without a slope is 10.5
    with pytest.raises(WriterError, match="not whole numbers") as err:
        choose_scaling(np.array([10.0, 10.5, 442.0]), ">i2", can_slope=False)
    assert "does not fit" not in str(err.value)
    assert "int16" in str(err.value) and ">i2" not in str(err.value)


def test_nan_and_inf_rules():
    data = np.array([np.nan, 1.0, 2.0])
    assert list(to_stored(data, np.dtype("i2"))) == [0, 1, 2]
    with pytest.raises(WriterError, match="infinite"):
        choose_scaling(np.array([np.inf, 1.0]), "i2")
    with pytest.raises(WriterError, match="infinite"):
        to_stored(np.array([np.inf, 1.0]), np.dtype("i2"))
    kept = to_stored(np.array([np.nan, np.inf]), np.dtype("f4"))
    assert np.isnan(kept[0]) and np.isinf(kept[1])
    with pytest.raises(WriterError, match="range of float32"):
        to_stored(np.array([1e300]), np.dtype("f4"))


def test_nan_with_scaling_reads_back_near_zero():
    data = np.array([np.nan, -10.0, 10.0, 3.3])
    slope, inter = choose_scaling(data, "i2")
    stored = to_stored(data, np.dtype("i2"), slope, inter)
    assert abs(stored[0] * slope + inter) <= slope


def test_a_range_below_the_smallest_scale_factor_still_gets_one():
    # found by the fuzzer: a loaded image whose float32 slope was subnormal (1e-45)
    # failed to save with a ZeroDivisionError (its slope rounded to 0 in float32)
    data = np.array([-2.7255255e-43, 0.0, 1.4012985e-45])
    slope, inter = choose_scaling(data, "i2")
    assert slope == float(np.finfo(np.float32).smallest_subnormal)
    stored = np.round((data - inter) / slope)
    assert stored.min() >= -32768 and stored.max() <= 32767
    assert np.allclose(stored * slope + inter, data, rtol=0, atol=slope)


def test_complex_to_real_refused():
    with pytest.raises(WriterError, match="imaginary"):
        to_stored(np.array([1 + 2j]), np.dtype("f8"))


def test_write_array_orders_and_byte_orders():
    arr = np.arange(24, dtype="i4").reshape((2, 3, 4))
    for order in "FC":
        for dt in (">i2", "<i2", ">f8"):
            buf = io.BytesIO()
            write_array(arr, buf, dt, offset=5, order=order)
            raw = buf.getvalue()
            assert raw[:5] == b"\0" * 5
            back = np.frombuffer(raw[5:], dtype=dt).reshape(arr.shape, order=order)
            assert np.array_equal(back, arr)


def test_resaving_an_unchanged_proxy_keeps_its_scaling():
    raw = np.arange(12, dtype="i2")
    proxy = ArrayProxy(io.BytesIO(raw.tobytes()), ((12,), "i2", 0, 0.25, -3.0))
    plan = plan_storage(proxy, np.dtype("i2"))
    assert plan.values_are_stored and (plan.slope, plan.inter) == (0.25, -3.0)
    buf = io.BytesIO()
    plan.write(buf, np.dtype("i2"), offset=0)
    assert buf.getvalue() == raw.tobytes()
    changed = plan_storage(proxy, np.dtype("i4"))
    assert not changed.values_are_stored


def test_integer_data_that_fits_is_not_scanned_for_its_range(monkeypatch):
    # int16 into int16 (or wider) can hold every value: no min/max pass
    from voxelio import writing

    def boom(*_a, **_k):
        raise AssertionError("range computed")

    monkeypatch.setattr(writing, "finite_range", boom)
    data = np.arange(-5, 5, dtype=np.int16).reshape(2, 5)
    assert writing.choose_scaling(data, np.int16) == (1.0, 0.0)
    assert writing.choose_scaling(data, ">i4") == (1.0, 0.0)
    assert writing.choose_scaling(data[data >= 0].astype(np.uint8), np.int16) == (1.0, 0.0)
    stored = writing.to_stored(data, np.dtype(">i4"))
    assert stored.dtype == np.dtype(">i4") and np.array_equal(stored, data)


def test_integer_data_that_may_not_fit_is_still_checked():
    from voxelio import writing
    from voxelio.errors import WriterError

    data = np.array([-1, 300], dtype=np.int16)
    with pytest.raises(WriterError):
        writing.to_stored(data, np.dtype(np.uint8))
    slope, inter = writing.choose_scaling(data, np.uint8)
    assert (slope, inter) != (1.0, 0.0)


def test_write_array_tells_a_compressing_writer_the_stored_type_and_keeps_pieces():
    # the pieces handed over are views of the array or fresh buffers: a writer
    # offering write_stable gets them without a copy, after expect_values
    calls: list[tuple[str, object]] = []

    class Recorder(io.BytesIO):
        def expect_values(self, dtype):
            calls.append(("expect", np.dtype(dtype)))

        def write_stable(self, data):
            calls.append(("stable", len(memoryview(data).cast("B"))))
            return self.write(data)

    data = np.asfortranarray(np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    out = Recorder()
    write_array(data, out, ">i2")
    assert calls[0] == ("expect", np.dtype(">i2"))
    assert sum(n for kind, n in calls if kind == "stable") == data.nbytes
    assert out.getvalue() == data.astype(">i2").tobytes(order="F")
