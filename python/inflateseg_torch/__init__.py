"""InflateSeg in PyTorch: the app's model, data path and trainer, to continue a run on a distributed engine.

checkpoint.py reads and writes the app's `.safetensors` checkpoint (`inflateseg-model/1`), model.py is the model
twin (every encoder family and both heads), data.py the data path, train.py the torchrun trainer.
"""
