"""Make the converter-made int8 model of ``models/converted/`` (needs TensorFlow; never run by tests).

A deep network made the way users make theirs: Keras' MobileNetV2 (``alpha=0.35``,
96x96x3 input, ``weights=None``, so nothing is downloaded) with 10 classes and no
final softmax, its random initial weights given calibrated batch-norm statistics
(moving mean and variance set from a few batches of random images in training mode),
then TensorFlow Lite's converter with full-integer quantization (int8 weights per
channel, int8 activations calibrated on a representative set of random images, int8
input and output). The project's interpreter and studies read the result; TensorFlow
is needed only here, in a virtual environment of its own::

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python benchmarks/make_converted_models.py [--out models/converted]

Changes made at conversion time so that every op runs integer-only here (said in
``models/converted/README.md``): no final softmax (``classifier_activation=None``:
the logits are what the truncation study measures), and MobileNetV2's explicit
``ZeroPadding2D`` before each stride-2 depthwise convolution is dropped with that
convolution switched to ``padding="same"``, which pads 96/48/24/12-wide inputs
exactly as the explicit ``((0, 1), (0, 1))`` pad did (TFLite's SAME padding puts the
single odd pixel at the bottom/right), so the network computes the same function
without a PAD op. Deterministic for a seed (TensorFlow's own kernels aside).
"""

import argparse
import pathlib

import numpy as np

NAME = "mobilenetv2_035_96_int8.tflite"
#: Random images in MobileNetV2's input range [-1, 1].
LOW, HIGH = -1.0, 1.0


def _without_explicit_padding(keras, model):
    """The model with each ZeroPadding2D removed and the valid-padded convolution after
    it switched to SAME padding (the same function for these even input sizes)."""
    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.ZeroPadding2D):
            return keras.layers.Identity(name=config["name"])
        if isinstance(layer, keras.layers.DepthwiseConv2D) and config["padding"] == "valid":
            config["padding"] = "same"
        return layer.__class__.from_config(config)
    clean = keras.models.clone_model(model, clone_function=clone)
    clean.set_weights(model.get_weights())
    return clean


def _calibrate_batch_norm(keras, model, rng, steps, batch):
    """Moving statistics of every BatchNormalization from random images: with momentum 0
    one training-mode pass sets them to that batch's statistics; later passes average."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for step in range(steps):
        for layer in norms:
            layer.momentum = step / (step + 1)  # running mean of the per-step statistics
        x = rng.uniform(LOW, HIGH, (batch,) + tuple(model.input_shape[1:])).astype(np.float32)
        model(x, training=True)


def make(out, *, seed=0, calibration_steps=4, batch=32, representative=64):
    import tensorflow as tf
    keras = tf.keras
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10,
                                          classifier_activation=None)
    model = _without_explicit_padding(keras, base)
    _calibrate_batch_norm(keras, model, rng, calibration_steps, batch)

    def representative_dataset():
        data = np.random.default_rng(seed + 1).uniform(LOW, HIGH, (representative, 96, 96, 3)).astype(np.float32)
        for x in data:
            yield [x[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path = pathlib.Path(out) / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(converter.convert())
    print(f"wrote {path} ({path.stat().st_size:,} bytes; TensorFlow {tf.__version__})")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[1]
                        / "models" / "converted")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    make(args.out, seed=args.seed)


if __name__ == "__main__":
    main()
