"""Visits (走访): a grid worker's check-in at a household (kind, outcome, notes, photos, the phone's
position and its distance to the household on the ellipsoid), the visit policy (the longest a household
may go unvisited, per group), the households overdue for a visit and the figures per grid and worker."""
