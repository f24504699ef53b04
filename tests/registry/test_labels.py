"""Decoding the worker's `nasiko.*` labels."""

import pytest

from nasiko_registry.labels import AgentLabels, LabelError, decode_labels


def test_full_label_set_decodes_into_typed_fields():
    labels = decode_labels({"nasiko.agent": "weather", "nasiko.port": "5001", "nasiko.content-hash": "abc",
                            "nasiko.image": "nasiko/weather:abc", "nasiko.managed-by": "nasiko-worker"})
    assert labels == AgentLabels("weather", 5001, "abc", "nasiko/weather:abc", "nasiko-worker", "")


def test_port_defaults_to_the_agent_port_5000():
    assert decode_labels({"nasiko.agent": "weather"}).port == 5000


@pytest.mark.parametrize(("labels", "message"), [
    ({"nasiko.agent": ""}, "label nasiko.agent is empty"),
    ({"nasiko.agent": "w", "nasiko.port": "x"}, "nasiko.port='x' is not a port number"),
    ({"nasiko.agent": "w", "nasiko.port": "70000"}, "nasiko.port=70000 is out of range"),
])
def test_unusable_labels_raise_a_message_naming_the_label(labels, message):
    with pytest.raises(LabelError, match=message):
        decode_labels(labels)
