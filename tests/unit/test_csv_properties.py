"""Property-based tests (Hypothesis) of the CSV row parser the model server and the payload
check share: whatever bytes arrive, the answer is a matrix of the right shape or a RowError
naming a line, and scoring in slices sees exactly the rows the whole parse sees."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model_registry.artifact.csv_rows import RowError, line_slices, parse_lines, parse_rows, split_lines

FEATURES = 7
PROPERTIES = settings(max_examples=300, deadline=None, database=None)

numbers = st.one_of(st.floats(allow_nan=False, width=32).map(repr), st.integers(-(10**6), 10**6).map(str), st.just(""))
good_rows = st.lists(numbers, min_size=FEATURES, max_size=FEATURES).map(lambda fs: ",".join(fs).encode())


@given(st.binary(max_size=400))
@PROPERTIES
def test_any_bytes_give_a_matrix_or_an_error_naming_a_line(body):
    try:
        rows = parse_rows(body, FEATURES)
    except RowError as exc:
        assert exc.line >= 1 and str(exc).startswith(f"line {exc.line}: ")
        assert len(str(exc)) < 200
        return
    assert rows.shape == (len(split_lines(body)), FEATURES) and rows.dtype == np.float32


@given(st.lists(good_rows, min_size=1, max_size=40), st.integers(1, 9))
@PROPERTIES
def test_slices_see_the_same_rows_as_the_whole(rows, per_slice):
    body = b"\n".join(rows)
    sliced = np.vstack([parse_lines(lines, FEATURES) for lines in line_slices(body, per_slice)])
    np.testing.assert_array_equal(sliced, parse_rows(body, FEATURES))


@given(st.lists(good_rows, min_size=2, max_size=30), st.data())
@PROPERTIES
def test_a_bad_row_is_named_by_its_line_in_whole_and_in_slices(rows, data):
    bad = data.draw(st.integers(0, len(rows) - 1))
    rows[bad] = b"1,2"
    body = b"\n".join(rows)
    first = 1
    for lines in line_slices(body, 4):
        try:
            parse_lines(lines, FEATURES, first)
        except RowError as exc:
            assert exc.line == bad + 1
            break
        first += len(lines)
    else:
        raise AssertionError("the bad row was not found in slices")
    try:
        parse_rows(body, FEATURES)
    except RowError as exc:
        assert exc.line == bad + 1
