"""Unmanaged compounds (无人管理小区): their polygons and management kind, imported all or nothing with
every row's problems; the overlaps between them; one lead helper unit (帮扶单位) per compound at any
time, enforced by the database, with its history; the helper's tasks (美化/亮化/绿化, 实事好事) with
photos before and after; and the coverage (share of compounds with a current helper) per street,
community and grid, whose counts are the lengths of the compound lists they drill down to."""
