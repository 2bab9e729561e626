"""hepgen: deep generative event generators for collider physics."""

__version__ = "0.1.0"
