"""Train a small PyTorch model on several processes with ``torch.distributed`` (optional)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
