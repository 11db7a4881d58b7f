"""The school perimeter (校园周边200米): rules, check, inspections, violations."""
