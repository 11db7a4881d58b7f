"""Road sections (路段管理责任制): cutting, units, assignments, coverage, frontage, roster."""
