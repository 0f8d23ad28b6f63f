"""Int8 ``.tflite`` models: reading and writing the flatbuffer, running a model with
integer arithmetic (TFLite mode or a ``k``-bit rescaler), LiteRT as the reference,
per-channel scales, and ``python -m accuracy evaluate`` on any model."""
