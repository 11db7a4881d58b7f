"""Every importable layer by name, above the capabilities that define them (placeholder while the
importer is split: the names callers use are final)."""

from gis.interop.exporting import export_layer
from gis.interop.importing import LAYERS, import_file, layer_spec, load_frame

__all__ = ["LAYERS", "export_layer", "import_file", "layer_spec", "load_frame"]
