"""The MNIST-1D workload: a MobileNet-style int8 network deep enough for rescale
errors to build up, with enough generated test samples for paired intervals of a
few tenths of a point; its training, rescale-aware fine-tuning and experiments."""
