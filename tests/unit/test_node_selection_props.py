"""Property: a compact node reference selects exactly the nodes it was made for, or refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kedro_azureml.contract.node_selection import decode_node_selection, encode_node_selection
from kedro_azureml.errors import KedroAzureMLError
from tests.support.properties import fuzz

node_names = st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=300, unique=True)


@fuzz(200)
@given(data=st.data(), names=node_names)
def test_reference_selects_exactly_the_chosen_nodes(data: st.DataObject, names: list[str]) -> None:
    chosen = data.draw(st.sets(st.sampled_from(names)))
    order = data.draw(st.permutations(names))  # the step may list the nodes in any order
    reference = encode_node_selection(names, chosen)
    assert set(reference) <= set("0123456789abcdef:") | set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
    )
    assert decode_node_selection("p", order, reference) == sorted(chosen)


@fuzz(100)
@given(names=node_names, other=st.text(min_size=1, max_size=20))
def test_a_pipeline_with_other_nodes_is_refused(names: list[str], other: str) -> None:
    reference = encode_node_selection(names, names[:1])
    changed = [*names, other] if other not in names else names[1:]
    with pytest.raises(KedroAzureMLError, match="compiled for a pipeline 'p' with other nodes"):
        decode_node_selection("p", changed, reference)


@pytest.mark.parametrize(
    "reference", ["", "abc", "0123456789abcdef:", "0123456789abcdef:!!!", "x:eJwDAAAAAAE"]
)
def test_a_malformed_reference_is_refused(reference: str) -> None:
    with pytest.raises(KedroAzureMLError, match=r"is not a node reference|other nodes"):
        decode_node_selection("p", ["a", "b"], reference)


def test_a_namespace_of_2800_nodes_fits_in_a_few_characters() -> None:
    names = [f"feature_engineering.transform_step_{i:04d}" for i in range(2800)] + ["report"]
    reference = encode_node_selection(names, names[:2800])
    assert len(reference) < 40
    assert decode_node_selection("p", names, reference) == names[:2800]
