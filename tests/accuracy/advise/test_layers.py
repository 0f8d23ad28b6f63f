"""The dot-product layers' shapes, beats and per-channel storage of a model (accuracy.advise.layers)."""

from accuracy.advise import layers
from accuracy.tflite import interpreter, reader
from costmodel.published import beats_per_output

from .conftest import TINY_LAYERS, needs_tflite, tiny_model


@needs_tflite
def test_shapes_of_the_dot_product_layers(tmp_path):
    model = reader.load(tiny_model(tmp_path / "tiny.tflite"))
    import numpy as np
    x = np.zeros((5, 6, 6, 2), np.int8)
    found = layers.dot_product_layers(model, interpreter.run(model, x, keep=True), 5, interpreter.DEFAULT_NARROW)
    assert [(l.op, l.outputs, l.channels, l.length) for l in found] == TINY_LAYERS
    assert [l.index for l in found] == [0, 1, 3] and found[0].name == "h1"


def test_beats_per_output():
    assert [beats_per_output(n, 8) for n in (1, 8, 9, 16, 17, 144)] == [1, 1, 2, 2, 3, 18]


def test_storage_bits_against_ethos():
    found = [layers.Layer(0, 0, "a", "CONV_2D", 100, 4, 18), layers.Layer(1, 1, "b", "FULLY_CONNECTED", 3, 3, 144)]
    # bias 32 bits (b_eff), m k bits, s bit_length(32 + k - 8) bits
    assert layers.channel_bits(4) == {"bias": 32, "m": 4, "s": 5}
    assert layers.channel_bits(32) == {"bias": 32, "m": 32, "s": 6}
    assert layers.storage_bits(found, 4) == 7 * 41 and layers.storage_bits(found, 32) == 7 * 70
    assert layers.ETHOS_U55_BITS_PER_CHANNEL == 80
