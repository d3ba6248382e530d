"""Pure, vectorised numerics on arrays shaped (paths, periods). No I/O, no printing."""
