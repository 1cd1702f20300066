"""cloudward: security for every stage of a cloud-native workload's life."""

__version__ = "0.1.0"

__all__ = ["__version__"]
