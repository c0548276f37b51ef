"""The only layer that imports IPython: the extension, the magics, auto mode and the cell activities."""
