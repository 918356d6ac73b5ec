"""datasummary: the quarterly Data Summary pipeline of a children's services partnership."""

__version__ = "0.1.0"
