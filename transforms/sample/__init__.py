"""A synthetic partnership: filled return workbooks plus the ground truth behind them."""

from transforms.sample.generate import generate_sample
from transforms.sample.truth import Delivery, Sample, load_truth

__all__ = ["Delivery", "Sample", "generate_sample", "load_truth"]
