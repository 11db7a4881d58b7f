"""Duties (值守, 文明劝导): a unit's duty at a post (a road section or a crossing) weekly on a weekday
(每周五) or monthly on a day of the month (每月15日), the roster derived from it for any range of days,
the record of each day (done or missed, by whom, when, photos) and the days missed; and the 门前三包
frontage agreements of shops with their checks."""
