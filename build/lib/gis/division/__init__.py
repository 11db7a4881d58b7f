"""The grid division (网格划分): communities, grids, grid workers and the division check."""
