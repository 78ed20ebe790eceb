// Imaging's users see the pixel math (float planes, colour conversion, resizing) through `import Imaging`, as before
// it moved to a target of its own.
@_exported import PixelMath
